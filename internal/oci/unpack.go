package oci

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/umoci/oci/layer"
)

// decompress detects gzip and zstd by their magic bytes and returns a
// reader of the plain tar stream. Uncompressed input is passed through.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read layer header: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip layer: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open zstd layer: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// tarUnpacker returns an unpackFunc that extracts the (possibly compressed)
// layer stream r with umoci and measures the diff ID and tar size.
func tarUnpacker(ctx context.Context, r io.Reader) unpackFunc {
	return func(dir string, format layer.OnDiskFormat) (digest.Digest, int64, error) {
		plain, err := decompress(ctxReader(ctx, r))
		if err != nil {
			return "", 0, err
		}
		defer plain.Close()
		dg := digest.SHA256.Digester()
		cnt := &countWriter{}
		hasher := newAsyncWriter(io.MultiWriter(dg.Hash(), cnt))
		defer hasher.Close()
		tee := io.TeeReader(plain, hasher)
		opt := &layer.UnpackOptions{OnDiskFormat: format}
		if err := layer.UnpackLayer(dir, tee, opt); err != nil {
			return "", 0, fmt.Errorf("unpack layer: %w", err)
		}
		// Hash the tar padding after the end-of-archive marker too.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return "", 0, fmt.Errorf("read layer: %w", err)
		}
		if err := hasher.Close(); err != nil {
			return "", 0, err
		}
		return dg.Digest(), cnt.n, nil
	}
}

type countWriter struct{ n int64 }

// Write implements io.Writer, counting bytes.
func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// chainIDs computes the layer chain IDs (hex, used as storage layer IDs)
// from the image's diff IDs, as the OCI image spec defines them.
func chainIDs(diffIDs []digest.Digest) []string {
	out := make([]string, len(diffIDs))
	var prev digest.Digest
	for i, d := range diffIDs {
		if i == 0 {
			prev = d
		} else {
			prev = digest.FromString(prev.String() + " " + d.String())
		}
		out[i] = prev.Encoded()
	}
	return out
}

// layerFormat is umoci's on-disk format (overlay whiteouts or plain dir).
type layerFormat = layer.OnDiskFormat

// jsonUnmarshal decodes data into v with a wrapped error.
func jsonUnmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}
