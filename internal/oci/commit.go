package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/log"
	"github.com/klauspost/compress/gzip"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	storage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// emptyTarDiffID is the diff ID of a tar with no entries (1024 zero bytes).
const emptyTarDiffID = digest.Digest("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")

// CommitOpt configures Commit (POST /commit).
type CommitOpt struct {
	// LayerID is the container's read-write layer.
	LayerID string
	// ImageID is the container's image; it becomes the new image's parent.
	ImageID string
	// Ref tags the new image when set ("repo:tag").
	Ref string
	// Config is the request's config; Changes are applied to it, then
	// fields it leaves empty are taken from Base.
	Config dockerspec.DockerOCIImageConfig
	// Changes are Dockerfile instructions (commit --change).
	Changes []string
	// Base is the container's own config.
	Base dockerspec.DockerOCIImageConfig
	// Comment, Author and CreatedBy go into the history entry.
	Comment, Author, CreatedBy string
}

// Commit turns the read-write layer's changes into a new image on top of
// the container's image. The layer is stored as a gzip blob and unpacked
// as a new read-only layer. A failure removes what it created.
func (s *Store) Commit(ctx context.Context, opt CommitOpt) (img Image, err error) {
	var tags []string
	if opt.Ref != "" {
		ref, err := ParseRef(opt.Ref)
		if err != nil {
			return Image{}, err
		}
		tags = append(tags, ref.TagRef())
	}
	base, err := s.Get(ctx, opt.ImageID)
	if err != nil {
		return Image{}, err
	}
	cfg, err := commitConfig(base.Config, opt)
	if err != nil {
		return Image{}, err
	}
	var blobs []digest.Digest
	defer func() {
		if err != nil {
			s.dropBlobs(context.WithoutCancel(ctx), blobs)
		}
	}()
	layer, diffID, err := s.storeDiff(ctx, opt.LayerID)
	if err != nil {
		return Image{}, err
	}
	blobs = append(blobs, layer)
	rec, err := s.commitImage(ctx, base, cfg, layer, diffID, tags, &blobs)
	if err != nil {
		return Image{}, err
	}
	return s.Get(ctx, rec.ID)
}

// commitImage writes config and manifest, unpacks the new layer and adds
// the record; blobs collects what it wrote.
func (s *Store) commitImage(ctx context.Context, base Image, cfg dockerspec.DockerOCIImage, layer, diffID digest.Digest,
	tags []string, blobs *[]digest.Digest) (rec record, err error) {
	mf, err := s.manifestOf(base.ManifestDigest)
	if err != nil {
		return record{}, err
	}
	var layers []digest.Digest
	for _, l := range mf.Layers {
		layers = append(layers, l.Digest)
	}
	empty := diffID == emptyTarDiffID
	cfg.History[len(cfg.History)-1].EmptyLayer = empty
	if !empty {
		layers = append(layers, layer)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
	}
	chains := chainIDs(cfg.RootFS.DiffIDs)
	var created []string
	defer func() {
		if err != nil {
			s.dropLayers(context.WithoutCancel(ctx), created)
		}
	}()
	if !empty {
		parent := ""
		if n := len(chains); n > 1 {
			parent = chains[n-2]
		}
		made, err := s.installLayer(ctx, layer, diffID, chains[len(chains)-1], parent)
		if made {
			created = append(created, chains[len(chains)-1])
		}
		if err != nil {
			return record{}, err
		}
	}
	return s.commitRecord(ctx, cfg, layers, chains, tags, base.ID, blobs)
}

func (s *Store) commitRecord(ctx context.Context, cfg dockerspec.DockerOCIImage, layers []digest.Digest, chains, tags []string,
	parent string, blobs *[]digest.Digest) (record, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return record{}, fmt.Errorf("encode config: %w", err)
	}
	cfgDigest, err := s.blobs.putBytes(ctx, data)
	if err != nil {
		return record{}, err
	}
	*blobs = append(*blobs, cfgDigest)
	mfDigest, err := s.putManifest(ctx, cfgDigest, layers)
	if err != nil {
		return record{}, err
	}
	*blobs = append(*blobs, mfDigest)
	rec := s.newRecord(mfDigest, cfgDigest, chains, tags, nil)
	rec.Parent = parent
	if err := s.addRecord(rec); err != nil {
		return record{}, err
	}
	if err := s.writeIndex(); err != nil {
		log.G(ctx).WithError(err).Warn("write index")
	}
	return rec, nil
}

// storeDiff writes the read-write layer's changes (a tar with AUFS-style
// whiteouts) as a gzip blob and returns its digest and the diff ID.
func (s *Store) storeDiff(ctx context.Context, layerID string) (digest.Digest, digest.Digest, error) {
	l, err := s.rwLayer(layerID)
	if err != nil {
		return "", "", err
	}
	plain := archive.Uncompressed
	rc, err := s.store.Diff(l.Parent, l.ID, &storage.DiffOptions{Compression: &plain})
	if err != nil {
		return "", "", fmt.Errorf("diff layer %s: %w", layerID, err)
	}
	defer rc.Close()
	w, err := s.blobs.writer()
	if err != nil {
		return "", "", err
	}
	defer w.discard()
	zw := gzip.NewWriter(w)
	dg := digest.SHA256.Digester()
	if _, err := io.Copy(io.MultiWriter(zw, dg.Hash()), ctxReader(ctx, rc)); err != nil {
		return "", "", fmt.Errorf("read layer diff: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", "", fmt.Errorf("compress layer diff: %w", err)
	}
	d := w.digest()
	if s.blobs.has(d) {
		return d, dg.Digest(), nil
	}
	return d, dg.Digest(), w.commit(d)
}

// dropBlobs removes blobs a failed operation wrote unless an image uses
// them.
func (s *Store) dropBlobs(ctx context.Context, blobs []digest.Digest) {
	used := s.usedBlobs()
	for _, d := range blobs {
		if !used[d] {
			if err := s.blobs.remove(d); err != nil {
				log.G(ctx).WithError(err).Debug("roll back blob")
			}
		}
	}
}

// commitConfig derives the new image's config from the base image's.
func commitConfig(base dockerspec.DockerOCIImage, opt CommitOpt) (dockerspec.DockerOCIImage, error) {
	cfg := opt.Config
	if err := applyChanges(&cfg.ImageConfig, opt.Changes); err != nil {
		return dockerspec.DockerOCIImage{}, err
	}
	mergeConfig(&cfg, opt.Base)
	now := time.Now().UTC()
	out := dockerspec.DockerOCIImage{Image: ocispec.Image{Created: &now, Author: opt.Author, Platform: base.Platform}, Config: cfg}
	out.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: append([]digest.Digest{}, base.RootFS.DiffIDs...)}
	out.History = append(append([]ocispec.History{}, base.History...), ocispec.History{
		Created: &now, CreatedBy: opt.CreatedBy, Comment: opt.Comment, Author: opt.Author,
	})
	return out, nil
}

// mergeConfig fills what cfg leaves unset from base, as docker commit
// does: env, labels, ports and volumes are merged key by key.
func mergeConfig(cfg *dockerspec.DockerOCIImageConfig, base dockerspec.DockerOCIImageConfig) {
	if cfg.Healthcheck == nil {
		cfg.Healthcheck = base.Healthcheck
	}
	if len(cfg.OnBuild) == 0 {
		cfg.OnBuild = base.OnBuild
	}
	if len(cfg.Shell) == 0 {
		cfg.Shell = base.Shell
	}
	if cfg.User == "" {
		cfg.User = base.User
	}
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = base.Cmd
		}
		cfg.Entrypoint = base.Entrypoint
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = base.WorkingDir
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = base.StopSignal
	}
	cfg.Env = mergeEnv(cfg.Env, base.Env)
	cfg.Labels = mergeSet(cfg.Labels, base.Labels)
	cfg.ExposedPorts = mergeSet(cfg.ExposedPorts, base.ExposedPorts)
	cfg.Volumes = mergeSet(cfg.Volumes, base.Volumes)
}

func mergeEnv(env, base []string) []string {
	have := map[string]bool{}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		have[k] = true
	}
	for _, e := range base {
		if k, _, _ := strings.Cut(e, "="); !have[k] {
			env = append(env, e)
		}
	}
	return env
}

func mergeSet[V any](m, base map[string]V) map[string]V {
	for k, v := range base {
		if m == nil {
			m = map[string]V{}
		}
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}
