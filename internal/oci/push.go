package oci

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// PushOpt configures a push.
type PushOpt struct {
	Auth     *Auth
	Progress ProgressFunc
}

// Push uploads the image tagged ref with its exact stored manifest, so the
// pushed digest equals the local manifest digest. Layers known to be in
// another repository of the same registry are mounted from there first
// (cross-repository blob mount); blobs the registry has are skipped. It
// returns the manifest digest and size, and records the new repo digest
// on the image.
func (s *Store) Push(ctx context.Context, refStr string, opt PushOpt) (digest.Digest, int64, error) {
	ref, err := ParseRef(refStr)
	if err != nil {
		return "", 0, err
	}
	if ref.Tag == "" {
		return "", 0, errdefs.InvalidParameter(fmt.Errorf("push needs a tag: %s", refStr))
	}
	rec, err := s.resolve(ref.TagRef())
	if err != nil {
		return "", 0, errdefs.NotFound(fmt.Errorf("An image does not exist locally with the tag: %s", FamiliarName(ref.Named.Name())))
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	repo, err := s.repoFor(ref.Domain(), ref.Path(), false)
	if err != nil {
		return "", 0, err
	}
	progress(Progress{Status: "The push refers to repository [" + ref.Named.Name() + "]"})
	img, err := s.localImage(rec, progress)
	if err != nil {
		return "", 0, err
	}
	if img.mounted, err = s.mountLayers(ctx, repo, ref, img.mf.Layers, opt.Auth, progress); err != nil {
		return "", 0, fmt.Errorf("push %s: %w", ref.Familiar(), err)
	}
	full, err := partial.CompressedToImage(img)
	if err != nil {
		return "", 0, err
	}
	if err := remote.Write(repo.Tag(ref.Tag), full, s.remoteOpts(ctx, opt.Auth)...); err != nil {
		return "", 0, fmt.Errorf("push %s: %w", ref.Familiar(), classify(err))
	}
	img.finish()
	s.rememberRepo(ctx, ref.Named.Name(), img.mf.Layers)
	size := int64(len(img.manifest))
	progress(Progress{Status: fmt.Sprintf("%s: digest: %s size: %d", ref.Tag, rec.ManifestDigest, size)})
	if err := s.addRecord(record{ID: rec.ID, RepoDigests: []string{ref.DigestRef(rec.ManifestDigest)}}); err != nil {
		return "", 0, err
	}
	return rec.ManifestDigest, size, nil
}

// pushImage serves a stored image to go-containerregistry's writer.
type pushImage struct {
	s        *Store
	manifest []byte
	mf       ocispec.Manifest
	progress ProgressFunc
	mu       sync.Mutex
	opened   map[digest.Digest]bool
	mounted  map[digest.Digest]bool // reported "Mounted from" already
}

var _ partial.CompressedImageCore = (*pushImage)(nil)

func (s *Store) localImage(rec record, progress ProgressFunc) (*pushImage, error) {
	data, err := s.blobs.read(rec.ManifestDigest)
	if err != nil {
		return nil, err
	}
	p := &pushImage{s: s, manifest: data, progress: progress, opened: map[digest.Digest]bool{}}
	if err := jsonUnmarshal(data, &p.mf); err != nil {
		return nil, err
	}
	for _, l := range p.mf.Layers {
		progress(Progress{ID: shortID(l.Digest.String()), Status: "Preparing"})
	}
	return p, nil
}

// finish reports the layers never read (and not mounted) as already
// present remotely.
func (p *pushImage) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.mf.Layers {
		if p.mounted[l.Digest] && !p.opened[l.Digest] {
			continue
		}
		if p.opened[l.Digest] {
			p.progress(Progress{ID: shortID(l.Digest.String()), Status: "Pushed"})
		} else {
			p.progress(Progress{ID: shortID(l.Digest.String()), Status: "Layer already exists"})
		}
	}
}

// RawConfigFile, RawManifest, MediaType and LayerByDigest implement
// partial.CompressedImageCore over the stored blobs.
func (p *pushImage) RawConfigFile() ([]byte, error) { return p.s.blobs.read(p.mf.Config.Digest) }
func (p *pushImage) RawManifest() ([]byte, error)   { return p.manifest, nil }
func (p *pushImage) MediaType() (types.MediaType, error) {
	return types.MediaType(mediaTypeOf(p.manifest)), nil
}

func (p *pushImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range p.mf.Layers {
		if l.Digest.String() == h.String() {
			return &pushLayer{p: p, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

// pushLayer is one stored blob; reading it reports "Pushing" progress.
type pushLayer struct {
	p    *pushImage
	desc ocispec.Descriptor
}

// Digest, Size, MediaType and Compressed implement partial.CompressedLayer.
func (l *pushLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.desc.Digest.String()) }
func (l *pushLayer) Size() (int64, error)     { return l.desc.Size, nil }
func (l *pushLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
}

func (l *pushLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.p.s.blobs.open(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	l.p.mu.Lock()
	l.p.opened[l.desc.Digest] = true
	l.p.mu.Unlock()
	id := shortID(l.desc.Digest.String())
	pr := &progressReader{r: f, id: id, total: l.desc.Size, fn: func(e Progress) {
		e.Status = "Pushing"
		l.p.progress(e)
	}}
	return struct {
		io.Reader
		io.Closer
	}{pr, f}, nil
}
