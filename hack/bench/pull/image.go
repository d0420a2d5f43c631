package main

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// serveImage starts the loopback registry, pushes the bench image into it
// and returns its reference and a function that stops the registry.
func serveImage(ctx context.Context, size int64) (string, func(), error) {
	dir, err := os.MkdirTemp("", "dl-bench-pull-")
	if err != nil {
		return "", nil, fmt.Errorf("create layer dir: %w", err)
	}
	defer os.RemoveAll(dir)
	layerPath := filepath.Join(dir, "layer.tar.gz")
	if err := writeLayer(layerPath, size); err != nil {
		return "", nil, err
	}
	img, err := benchImage(layerPath)
	if err != nil {
		return "", nil, err
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	ref := strings.TrimPrefix(srv.URL, "http://") + "/bench/big:latest"
	tag, err := name.NewTag(ref)
	if err != nil {
		srv.Close()
		return "", nil, fmt.Errorf("parse %s: %w", ref, err)
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		srv.Close()
		return "", nil, fmt.Errorf("push bench image: %w", err)
	}
	return ref, srv.Close, nil
}

// benchImage wraps the layer file in a linux image for this machine's
// architecture (OCI media types).
func benchImage(layerPath string) (v1.Image, error) {
	l, err := tarball.LayerFromFile(layerPath, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("open layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Cmd = []string{"/blob"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	// The layer is read from disk once here, so the push does not.
	if _, err := img.Digest(); err != nil {
		return nil, fmt.Errorf("digest image: %w", err)
	}
	return img, nil
}

// writeLayer writes a gzip tar with one file "blob" of size random bytes.
func writeLayer(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create layer: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "blob", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("write layer: %w", err)
	}
	if _, err := io.CopyN(tw, rand.Reader, size); err != nil {
		return fmt.Errorf("write layer: %w", err)
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			return fmt.Errorf("write layer: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write layer: %w", err)
	}
	return f.Close()
}
