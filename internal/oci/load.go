package oci

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// smallFile is the size up to which archive members are also kept in
// memory (manifests, configs, indexes); everything goes to the blob store.
const smallFile = 1 << 20

// spool is an archive read once: every regular file ingested into the blob
// store by content digest, small ones kept in memory, symlinks resolved.
type spool struct {
	files    map[string]digest.Digest
	small    map[string][]byte
	links    map[string]string
	ingested []digest.Digest
}

func (s *Store) readArchive(ctx context.Context, r io.Reader) (*spool, error) {
	sp := &spool{files: map[string]digest.Digest{}, small: map[string][]byte{}, links: map[string]string{}}
	tr := tar.NewReader(ctxReader(ctx, r))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return sp, nil
		}
		if err != nil {
			return sp, errdefs.InvalidParameter(fmt.Errorf("read archive: %w", err))
		}
		p := cleanPath(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			sp.links[p] = cleanPath(path.Join(path.Dir(p), hdr.Linkname))
		case tar.TypeLink:
			sp.links[p] = cleanPath(hdr.Linkname)
		case tar.TypeReg:
			if err := s.spoolFile(ctx, sp, p, hdr.Size, tr); err != nil {
				return sp, err
			}
		}
	}
}

func (s *Store) spoolFile(ctx context.Context, sp *spool, p string, size int64, r io.Reader) error {
	w, err := s.blobs.writer()
	if err != nil {
		return err
	}
	defer w.discard()
	var small strings.Builder
	dst := io.Writer(w)
	if size <= smallFile {
		dst = io.MultiWriter(w, &small)
	}
	if _, err := io.Copy(dst, r); err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("read archive member %s: %w", p, err))
	}
	d := w.digest()
	if !s.blobs.has(d) {
		if err := w.commit(d); err != nil {
			return err
		}
		sp.ingested = append(sp.ingested, d)
	}
	sp.files[p] = d
	if size <= smallFile {
		sp.small[p] = []byte(small.String())
	}
	return nil
}

func cleanPath(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (sp *spool) resolve(p string) string {
	p = cleanPath(p)
	for i := 0; i < 16; i++ {
		t, ok := sp.links[p]
		if !ok {
			break
		}
		p = t
	}
	return p
}

func (sp *spool) digest(p string) (digest.Digest, error) {
	d, ok := sp.files[sp.resolve(p)]
	if !ok {
		return "", errdefs.InvalidParameter(fmt.Errorf("invalid archive: %s is missing", p))
	}
	return d, nil
}

func (sp *spool) json(p string, v any) error {
	data, ok := sp.small[sp.resolve(p)]
	if !ok {
		return errdefs.InvalidParameter(fmt.Errorf("invalid archive: %s is missing", p))
	}
	if err := jsonUnmarshal(data, v); err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid archive: %s: %w", p, err))
	}
	return nil
}

func (sp *spool) has(p string) bool {
	_, ok := sp.files[sp.resolve(p)]
	return ok
}

// Load reads a docker-archive (manifest.json, or the old per-layer format
// with "repositories" and <id>/layer.tar) or an OCI archive (oci-layout and
// index.json) and stores its images. It returns Docker's output lines:
// "Loaded image: <ref>" or "Loaded image ID: sha256:...".
func (s *Store) Load(ctx context.Context, r io.Reader) ([]string, error) {
	sp, err := s.readArchive(ctx, r)
	defer s.dropUnused(context.WithoutCancel(ctx), sp)
	if err != nil {
		return nil, err
	}
	var loaded []loadedImage
	switch {
	case sp.has("manifest.json"):
		loaded, err = s.loadDockerArchive(ctx, sp)
	case sp.has("index.json"):
		loaded, err = s.loadOCIArchive(ctx, sp)
	case sp.has("repositories"):
		loaded, err = s.loadLegacyArchive(ctx, sp)
	default:
		err = errdefs.InvalidParameter(errors.New("invalid archive: no manifest.json, index.json or repositories file"))
	}
	return loadLines(loaded), err
}

// loadedImage is one image a load stored, with the tags it got.
type loadedImage struct {
	id   string
	tags []string
}

func loadLines(loaded []loadedImage) []string {
	var lines []string
	for _, l := range loaded {
		if len(l.tags) == 0 {
			lines = append(lines, "Loaded image ID: "+l.id)
		}
		for _, t := range l.tags {
			lines = append(lines, "Loaded image: "+familiar(t))
		}
	}
	return lines
}

// dropUnused removes blobs a load ingested that no image ended up using.
func (s *Store) dropUnused(ctx context.Context, sp *spool) {
	if sp == nil || len(sp.ingested) == 0 {
		return
	}
	used := s.usedBlobs()
	for _, d := range sp.ingested {
		if !used[d] {
			if err := s.blobs.remove(d); err != nil {
				log.G(ctx).WithError(err).Debug("remove unused archive blob")
			}
		}
	}
}

// archiveEntry is one entry of a docker-archive manifest.json.
type archiveEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (s *Store) loadDockerArchive(ctx context.Context, sp *spool) ([]loadedImage, error) {
	var entries []archiveEntry
	if err := sp.json("manifest.json", &entries); err != nil {
		return nil, err
	}
	var out []loadedImage
	for _, e := range entries {
		cfg, err := sp.digest(e.Config)
		if err != nil {
			return out, err
		}
		var layers []digest.Digest
		for _, l := range e.Layers {
			d, err := sp.digest(l)
			if err != nil {
				return out, err
			}
			layers = append(layers, d)
		}
		li, err := s.loadImage(ctx, cfg, layers, e.RepoTags)
		if err != nil {
			return out, err
		}
		out = append(out, li)
	}
	return out, nil
}

// loadImage writes a manifest for config+layers, installs the image and
// tags it.
func (s *Store) loadImage(ctx context.Context, cfg digest.Digest, layers []digest.Digest, tags []string) (loadedImage, error) {
	full, err := fullTags(tags)
	if err != nil {
		return loadedImage{}, err
	}
	mf, err := s.putManifest(ctx, cfg, layers)
	if err != nil {
		return loadedImage{}, err
	}
	rec, err := s.install(ctx, mf, full, nil)
	if err != nil {
		return loadedImage{}, err
	}
	return loadedImage{id: rec.ID, tags: full}, nil
}

func fullTags(tags []string) ([]string, error) {
	var out []string
	for _, t := range tags {
		ref, err := ParseRef(t)
		if err != nil {
			return nil, err
		}
		if ref.TagRef() != "" {
			out = append(out, ref.TagRef())
		}
	}
	return out, nil
}

func (s *Store) loadOCIArchive(ctx context.Context, sp *spool) ([]loadedImage, error) {
	var idx ocispec.Index
	if err := sp.json("index.json", &idx); err != nil {
		return nil, err
	}
	var out []loadedImage
	for _, desc := range idx.Manifests {
		mf, err := s.ociManifest(sp, desc)
		if err != nil {
			return out, err
		}
		var tags []string
		if name := ociRefName(desc); name != "" {
			if ref, err := ParseRef(name); err == nil && ref.TagRef() != "" {
				tags = []string{ref.TagRef()}
			}
		}
		rec, err := s.install(ctx, mf, tags, nil)
		if err != nil {
			return out, err
		}
		out = append(out, loadedImage{id: rec.ID, tags: tags})
	}
	return out, nil
}

// ociManifest checks that the descriptor's blobs were in the archive under
// their own digests and resolves an index to the default platform.
func (s *Store) ociManifest(sp *spool, desc ocispec.Descriptor) (digest.Digest, error) {
	if err := sp.checkBlob(desc.Digest); err != nil {
		return "", err
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex || desc.MediaType == mediaTypeDockerList {
		data, err := s.blobs.read(desc.Digest)
		if err != nil {
			return "", err
		}
		d, err := pickPlatform(data, nil)
		if err != nil {
			return "", err
		}
		return s.ociManifest(sp, ocispec.Descriptor{Digest: d, MediaType: ocispec.MediaTypeImageManifest})
	}
	mf, err := s.manifestOf(desc.Digest)
	if err != nil {
		return "", err
	}
	for _, d := range append([]ocispec.Descriptor{mf.Config}, mf.Layers...) {
		if err := sp.checkBlob(d.Digest); err != nil {
			return "", err
		}
	}
	return desc.Digest, nil
}

func (sp *spool) checkBlob(d digest.Digest) error {
	if d.Validate() != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid archive: bad digest %q", d))
	}
	p := path.Join("blobs", d.Algorithm().String(), d.Encoded())
	got, err := sp.digest(p)
	if err != nil {
		return err
	}
	if got != d {
		return errdefs.InvalidParameter(fmt.Errorf("invalid archive: %s has digest %s", p, got))
	}
	return nil
}

// ociRefName reads the image name annotations containerd and Docker write.
func ociRefName(desc ocispec.Descriptor) string {
	if n := desc.Annotations["io.containerd.image.name"]; n != "" {
		return n
	}
	n := desc.Annotations[ocispec.AnnotationRefName]
	if strings.ContainsAny(n, "/:") {
		return n
	}
	return ""
}
