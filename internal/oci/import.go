package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImportOpt configures Import (POST /images/create?fromSrc=).
type ImportOpt struct {
	// Ref tags the image when set.
	Ref string
	// Changes are Dockerfile instructions applied to the config.
	Changes []string
	// Message is the history comment.
	Message string
	// Platform sets os/architecture (default linux and the daemon's).
	Platform *ocispec.Platform
}

// Import creates a single-layer image from a root file system tarball
// (plain, gzip or zstd); the layer is stored uncompressed.
func (s *Store) Import(ctx context.Context, r io.Reader, opt ImportOpt) (Image, error) {
	var tags []string
	if opt.Ref != "" {
		ref, err := ParseRef(opt.Ref)
		if err != nil {
			return Image{}, err
		}
		tags = append(tags, ref.TagRef())
	}
	diffID, err := s.storePlainLayer(ctx, r)
	if err != nil {
		return Image{}, err
	}
	cfgDigest, err := s.importConfig(ctx, diffID, opt)
	if err != nil {
		return Image{}, err
	}
	mf, err := s.putManifest(ctx, cfgDigest, []digest.Digest{diffID})
	if err != nil {
		return Image{}, err
	}
	rec, err := s.install(ctx, mf, tags, nil)
	if err != nil {
		return Image{}, err
	}
	return s.Get(ctx, rec.ID)
}

// storePlainLayer decompresses r into the blob store; the blob digest is
// then also the diff ID.
func (s *Store) storePlainLayer(ctx context.Context, r io.Reader) (digest.Digest, error) {
	plain, err := decompress(ctxReader(ctx, r))
	if err != nil {
		return "", err
	}
	defer plain.Close()
	w, err := s.blobs.writer()
	if err != nil {
		return "", err
	}
	defer w.discard()
	if _, err := io.Copy(w, plain); err != nil {
		return "", fmt.Errorf("read import source: %w", err)
	}
	d := w.digest()
	if s.blobs.has(d) {
		return d, nil
	}
	return d, w.commit(d)
}

func (s *Store) importConfig(ctx context.Context, diffID digest.Digest, opt ImportOpt) (digest.Digest, error) {
	now := time.Now().UTC()
	p := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if opt.Platform != nil {
		p = *opt.Platform
	}
	cfg := ocispec.Image{Created: &now, Platform: p}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}
	comment := opt.Message
	if comment == "" {
		comment = "Imported from -"
	}
	cfg.History = []ocispec.History{{Created: &now, Comment: comment}}
	if err := applyChanges(&cfg.Config, opt.Changes); err != nil {
		return "", err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	return s.blobs.putBytes(ctx, data)
}
