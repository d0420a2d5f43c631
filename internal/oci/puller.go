package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// maxConcurrentDownloads matches dockerd's default.
const maxConcurrentDownloads = 3

// puller runs one pull's layer work and remembers what to roll back.
type puller struct {
	s        *Store
	src      *remoteImage
	progress ProgressFunc
	auth     *Auth

	mu      sync.Mutex
	created []string
	rt      http.RoundTripper
}

func (p *puller) run(ctx context.Context, ref Ref) (PullResult, error) {
	var mf ocispec.Manifest
	if err := jsonUnmarshal(p.src.manifest, &mf); err != nil {
		return PullResult{}, err
	}
	if err := p.s.fetchBlob(ctx, p.src, mf.Config.Digest); err != nil {
		return PullResult{}, err
	}
	var cfg ocispec.Image
	if err := p.s.blobs.readJSON(mf.Config.Digest, &cfg); err != nil {
		return PullResult{}, err
	}
	if len(cfg.RootFS.DiffIDs) != len(mf.Layers) {
		return PullResult{}, fmt.Errorf("invalid image: %d layers but %d diff IDs", len(mf.Layers), len(cfg.RootFS.DiffIDs))
	}
	if _, err := p.s.blobs.putBytes(ctx, p.src.manifest); err != nil {
		return PullResult{}, err
	}
	chains := chainIDs(cfg.RootFS.DiffIDs)
	release := p.s.inflight.hold(chains)
	defer release()
	if err := p.layers(ctx, mf.Layers, cfg.RootFS.DiffIDs, chains); err != nil {
		p.rollback(context.WithoutCancel(ctx))
		return PullResult{}, err
	}
	res, err := p.record(ctx, ref, mf.Config.Digest, chains)
	if err == nil {
		p.s.rememberRepo(ctx, ref.Named.Name(), mf.Layers)
	}
	return res, err
}

// record adds the image record (tag and repo digest) and reports whether
// the reference already named this image.
func (p *puller) record(ctx context.Context, ref Ref, config digest.Digest, chains []string) (PullResult, error) {
	var tags []string
	if t := ref.TagRef(); t != "" && ref.Digest == "" {
		tags = []string{t}
	}
	rec := p.s.newRecord(p.src.mfDigest, config, chains, tags, []string{ref.DigestRef(p.src.topDigest)})
	before, err := p.s.resolve(ref.String())
	upToDate := err == nil && before.ID == rec.ID && len(p.created) == 0
	if upToDate {
		rec.LastTagTime = before.LastTagTime
	}
	if err := p.s.addRecord(rec); err != nil {
		p.rollback(context.WithoutCancel(ctx))
		return PullResult{}, err
	}
	if err := p.s.writeIndex(); err != nil {
		log.G(ctx).WithError(err).Warn("write index")
	}
	img, err := p.s.Get(ctx, rec.ID)
	return PullResult{Image: img, Ref: ref.Familiar(), Digest: p.src.topDigest, UpToDate: upToDate}, err
}

// layers fetches and unpacks every layer; up to maxConcurrentDownloads at
// once, each streamed into its storage layer while it downloads when the
// parent layer allows it.
func (p *puller) layers(ctx context.Context, descs []ocispec.Descriptor, diffIDs []digest.Digest, chains []string) error {
	ready := make([]chan struct{}, len(descs))
	for i, d := range descs {
		ready[i] = make(chan struct{})
		p.progress(Progress{ID: shortID(d.Digest.String()), Status: "Pulling fs layer"})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentDownloads)
	for i := range descs {
		j := layerJob{desc: descs[i], diffID: diffIDs[i], chain: chains[i], ready: ready[i]}
		j.parentReady = closedChan
		if i > 0 {
			j.parent, j.parentReady = chains[i-1], ready[i-1]
		}
		g.Go(func() error { return p.layer(gctx, &j) })
	}
	return g.Wait()
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// layerJob is one layer of a pull.
type layerJob struct {
	desc        ocispec.Descriptor
	diffID      digest.Digest
	chain       string
	parent      string
	parentReady <-chan struct{}
	ready       chan struct{}
	once        sync.Once
}

func (j *layerJob) signal()       { j.once.Do(func() { close(j.ready) }) }
func (j *layerJob) short() string { return shortID(j.desc.Digest.String()) }

func (p *puller) layer(ctx context.Context, j *layerJob) error {
	if _, ok := p.s.readyLayer(j.chain); ok {
		j.signal()
		if !p.s.blobs.has(j.desc.Digest) {
			if err := p.download(ctx, j, nil); err != nil {
				return err
			}
		}
		p.progress(Progress{ID: j.short(), Status: "Already exists"})
		return nil
	}
	if p.s.blobs.has(j.desc.Digest) {
		return p.unpackStored(ctx, j)
	}
	if p.s.driver == DriverVFS && !isClosed(j.parentReady) {
		if err := p.download(ctx, j, nil); err != nil {
			return err
		}
		return p.unpackStored(ctx, j)
	}
	if err := wait(ctx, j.parentReady); err != nil {
		return err
	}
	return p.downloadUnpack(ctx, j)
}

// unpackStored unpacks a layer whose blob is already in the store.
func (p *puller) unpackStored(ctx context.Context, j *layerJob) error {
	if err := wait(ctx, j.parentReady); err != nil {
		return err
	}
	f, err := p.s.blobs.open(j.desc.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	p.progress(Progress{ID: j.short(), Status: "Extracting", Total: j.desc.Size})
	if err := p.create(ctx, j, tarUnpacker(ctx, f)); err != nil {
		return err
	}
	p.progress(Progress{ID: j.short(), Status: "Pull complete"})
	return nil
}

// downloadUnpack streams the blob into the blob store and, through the
// decompressor, into the storage layer at the same time. The layer is
// kept only when both the blob digest and the diff ID verify.
func (p *puller) downloadUnpack(ctx context.Context, j *layerJob) error {
	return p.download(ctx, j, func(r io.Reader, commit func() error) error {
		unpack := tarUnpacker(ctx, r)
		return p.create(ctx, j, func(dir string, f layerFormat) (digest.Digest, int64, error) {
			d, n, err := unpack(dir, f)
			if err != nil {
				return d, n, err
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return d, n, fmt.Errorf("read layer: %w", err)
			}
			return d, n, commit()
		})
	})
}

// create makes the storage layer, verifying the diff ID.
func (p *puller) create(ctx context.Context, j *layerJob, unpack unpackFunc) error {
	verified := func(dir string, f layerFormat) (digest.Digest, int64, error) {
		p.mu.Lock()
		p.created = append(p.created, j.chain)
		p.mu.Unlock()
		if p.s.driver != DriverVFS {
			j.signal() // overlay children only need this layer to exist
		}
		d, n, err := unpack(dir, f)
		if err == nil && d != j.diffID {
			err = fmt.Errorf("verify layer %s: diff ID mismatch: got %s, want %s", j.short(), d, j.diffID)
		}
		return d, n, err
	}
	if _, err := p.s.createLayer(ctx, j.chain, j.parent, verified); err != nil {
		return err
	}
	j.signal()
	return nil
}

// download fetches the blob into a temp file of the blob store, reporting
// progress. With use set, use reads the stream while it downloads and must
// call commit (which verifies and stores the blob) once it read all;
// otherwise the blob is committed here.
func (p *puller) download(ctx context.Context, j *layerJob, use func(io.Reader, func() error) error) error {
	body, err := p.openBlob(ctx, j.desc.Digest)
	if err != nil {
		return err
	}
	defer body.Close()
	w, err := p.s.blobs.writer()
	if err != nil {
		return err
	}
	defer w.discard()
	pr := &progressReader{r: body, id: j.short(), total: j.desc.Size, fn: p.progress}
	aw := newAsyncWriter(w)
	defer aw.Close()
	src := io.TeeReader(pr, aw)
	committed := false
	commit := func() error {
		committed = true
		p.progress(Progress{ID: j.short(), Status: "Verifying Checksum"})
		if err := aw.Close(); err != nil {
			return fmt.Errorf("store layer %s: %w", j.short(), err)
		}
		if err := w.commit(j.desc.Digest); err != nil {
			return err
		}
		p.progress(Progress{ID: j.short(), Status: "Download complete"})
		return nil
	}
	if use != nil {
		if err := use(src, commit); err != nil {
			return err
		}
		if !committed { // the layer appeared meanwhile: still keep the blob
			if _, err := io.Copy(io.Discard, src); err != nil {
				return fmt.Errorf("download layer %s: %w", j.short(), err)
			}
			return commit()
		}
		p.progress(Progress{ID: j.short(), Status: "Pull complete"})
		return nil
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("download layer %s: %w", j.short(), err)
	}
	return commit()
}

// openBlob starts a blob download through an authenticated transport.
func (p *puller) openBlob(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	rt, err := p.transport(ctx)
	if err != nil {
		return nil, err
	}
	repo := p.src.repo
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), d)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch blob %s: %w", d, err)
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch blob %s: %w", d, classify(err))
	}
	return resp.Body, nil
}

func (p *puller) transport(ctx context.Context) (http.RoundTripper, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rt != nil {
		return p.rt, nil
	}
	scopes := []string{p.src.repo.Scope(transport.PullScope)}
	rt, err := transport.NewWithContext(ctx, p.src.repo.Registry, p.auth.authenticator(), p.s.transport(http.DefaultTransport), scopes)
	if err != nil {
		return nil, fmt.Errorf("authenticate to %s: %w", p.src.repo.RegistryStr(), classify(err))
	}
	p.rt = rt
	return rt, nil
}

// rollback removes the layers this pull created, children first.
func (p *puller) rollback(ctx context.Context) {
	p.mu.Lock()
	created := append([]string(nil), p.created...)
	p.mu.Unlock()
	used := p.s.referencedLayers()
	for i := len(created) - 1; i >= 0; i-- {
		id := created[i]
		if used[id] || p.s.inflight.shared(id) {
			continue
		}
		if err := p.s.store.DeleteLayer(id); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.G(ctx).WithError(err).WithField("layer", id).Debug("roll back layer")
		}
	}
}

// progressReader reports "Downloading" at most every 100ms.
type progressReader struct {
	r     io.Reader
	id    string
	n     int64
	total int64
	last  time.Time
	fn    ProgressFunc
}

// Read implements io.Reader and reports progress.
func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	if now := time.Now(); now.Sub(pr.last) > 100*time.Millisecond || (err == io.EOF && pr.n > 0) {
		pr.last = now
		pr.fn(Progress{ID: pr.id, Status: "Downloading", Current: pr.n, Total: pr.total})
	}
	return n, err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func wait(ctx context.Context, c <-chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
