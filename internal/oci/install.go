package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// install unpacks the layers of a manifest whose blobs are all stored and
// records the image with the given full references. A failure removes
// the layers it created.
func (s *Store) install(ctx context.Context, mfDigest digest.Digest, tags, digests []string) (record, error) {
	mf, err := s.manifestOf(mfDigest)
	if err != nil {
		return record{}, err
	}
	var cfg ocispec.Image
	if err := s.blobs.readJSON(mf.Config.Digest, &cfg); err != nil {
		return record{}, err
	}
	if len(cfg.RootFS.DiffIDs) != len(mf.Layers) {
		return record{}, fmt.Errorf("invalid image: %d layers but %d diff IDs", len(mf.Layers), len(cfg.RootFS.DiffIDs))
	}
	chains := chainIDs(cfg.RootFS.DiffIDs)
	var created []string
	for i, l := range mf.Layers {
		parent := ""
		if i > 0 {
			parent = chains[i-1]
		}
		made, err := s.installLayer(ctx, l.Digest, cfg.RootFS.DiffIDs[i], chains[i], parent)
		if made {
			created = append(created, chains[i])
		}
		if err != nil {
			s.dropLayers(context.WithoutCancel(ctx), created)
			return record{}, err
		}
	}
	rec := s.newRecord(mfDigest, mf.Config.Digest, chains, tags, digests)
	if err := s.addRecord(rec); err != nil {
		s.dropLayers(context.WithoutCancel(ctx), created)
		return record{}, err
	}
	if err := s.writeIndex(); err != nil {
		log.G(ctx).WithError(err).Warn("write index")
	}
	return rec, nil
}

func (s *Store) installLayer(ctx context.Context, blob, diffID digest.Digest, chain, parent string) (bool, error) {
	f, err := s.blobs.open(blob)
	if err != nil {
		return false, err
	}
	defer f.Close()
	unpack := tarUnpacker(ctx, f)
	return s.createLayer(ctx, chain, parent, func(dir string, fm layerFormat) (digest.Digest, int64, error) {
		d, n, err := unpack(dir, fm)
		if err == nil && d != diffID {
			err = fmt.Errorf("verify layer %s: diff ID mismatch: got %s, want %s", shortID(blob.String()), d, diffID)
		}
		return d, n, err
	})
}

// dropLayers removes layers created by a failed operation, newest first,
// unless an image uses them.
func (s *Store) dropLayers(ctx context.Context, created []string) {
	used := s.referencedLayers()
	for i := len(created) - 1; i >= 0; i-- {
		if !used[created[i]] {
			if err := s.store.DeleteLayer(created[i]); err != nil {
				log.G(ctx).WithError(err).WithField("layer", created[i]).Debug("roll back layer")
			}
		}
	}
}

// putManifest writes a Docker schema2 manifest for a config and layers
// already in the blob store.
func (s *Store) putManifest(ctx context.Context, config digest.Digest, layers []digest.Digest) (digest.Digest, error) {
	cfgData, err := s.blobs.read(config)
	if err != nil {
		return "", err
	}
	mf := ocispec.Manifest{
		MediaType: mediaTypeDockerManifest,
		Config:    ocispec.Descriptor{MediaType: mediaTypeDockerConfig, Digest: config, Size: int64(len(cfgData))},
		Layers:    []ocispec.Descriptor{},
	}
	mf.SchemaVersion = 2
	for _, l := range layers {
		desc, err := s.layerDescriptor(l)
		if err != nil {
			return "", err
		}
		mf.Layers = append(mf.Layers, desc)
	}
	data, err := json.Marshal(mf)
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	return s.blobs.putBytes(ctx, data)
}

// layerDescriptor describes a stored layer blob, with the media type taken
// from its compression.
func (s *Store) layerDescriptor(d digest.Digest) (ocispec.Descriptor, error) {
	f, err := s.blobs.open(d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	mt := "application/vnd.docker.image.rootfs.diff.tar"
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		mt = mediaTypeDockerLayer
	case n == 4 && string(magic) == "\x28\xb5\x2f\xfd":
		mt = ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: st.Size()}, nil
}

// diffIDOf computes the digest of a stored layer's uncompressed tar.
func (s *Store) diffIDOf(ctx context.Context, d digest.Digest) (digest.Digest, error) {
	f, err := s.blobs.open(d)
	if err != nil {
		return "", err
	}
	defer f.Close()
	plain, err := decompress(ctxReader(ctx, f))
	if err != nil {
		return "", err
	}
	defer plain.Close()
	dg := digest.SHA256.Digester()
	if _, err := io.Copy(dg.Hash(), plain); err != nil {
		return "", fmt.Errorf("read layer %s: %w", d, err)
	}
	return dg.Digest(), nil
}
