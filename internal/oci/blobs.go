package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobStore is an OCI image layout: blobs/sha256/<hex> by digest, plus
// oci-layout and an index.json naming every stored image manifest.
type blobStore struct {
	root string
	tmp  string
}

func newBlobStore(root string) (*blobStore, error) {
	b := &blobStore{root: root, tmp: filepath.Join(filepath.Dir(root), "tmp")}
	if err := os.MkdirAll(filepath.Join(root, "blobs", "sha256"), 0o700); err != nil {
		return nil, fmt.Errorf("create blob store: %w", err)
	}
	layout := filepath.Join(root, ocispec.ImageLayoutFile)
	if _, err := os.Stat(layout); errors.Is(err, os.ErrNotExist) {
		data := []byte(`{"imageLayoutVersion":"` + ocispec.ImageLayoutVersion + `"}`)
		if err := writeFileAtomic(layout, data); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(root, "index.json")); errors.Is(err, os.ErrNotExist) {
		if err := b.writeIndex(nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *blobStore) path(d digest.Digest) string {
	return filepath.Join(b.root, "blobs", d.Algorithm().String(), d.Encoded())
}

// has reports whether the blob is stored (stored blobs are always verified).
func (b *blobStore) has(d digest.Digest) bool {
	if d.Validate() != nil {
		return false
	}
	_, err := os.Stat(b.path(d))
	return err == nil
}

func (b *blobStore) open(d digest.Digest) (*os.File, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	f, err := os.Open(b.path(d))
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return f, nil
}

func (b *blobStore) read(d digest.Digest) ([]byte, error) {
	f, err := b.open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func (b *blobStore) readJSON(d digest.Digest, v any) error {
	data, err := b.read(d)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode blob %s: %w", d, err)
	}
	return nil
}

// putBytes stores small content (manifests, configs) and returns its digest.
func (b *blobStore) putBytes(ctx context.Context, data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if b.has(d) {
		return d, nil
	}
	w, err := b.writer()
	if err != nil {
		return "", err
	}
	defer w.discard()
	if _, err := io.Copy(w, ctxReader(ctx, bytes.NewReader(data))); err != nil {
		return "", err
	}
	return d, w.commit(d)
}

// writer starts an ingest into a temp file that commit moves into place.
func (b *blobStore) writer() (*blobWriter, error) {
	f, err := os.CreateTemp(b.tmp, "blob-*")
	if err != nil {
		return nil, fmt.Errorf("create blob temp file: %w", err)
	}
	return &blobWriter{b: b, f: f, h: digest.SHA256.Hash()}, nil
}

// remove deletes a blob; a missing blob is not an error.
func (b *blobStore) remove(d digest.Digest) error {
	if err := os.Remove(b.path(d)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", d, err)
	}
	return nil
}

// writeIndex rewrites index.json with the given manifest descriptors.
func (b *blobStore) writeIndex(manifests []ocispec.Descriptor) error {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	idx.SchemaVersion = 2
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	return writeFileAtomic(filepath.Join(b.root, "index.json"), data)
}

// blobWriter hashes what it writes; commit verifies and renames it into the
// store, discard drops it. Partial content never reaches blobs/.
type blobWriter struct {
	b    *blobStore
	f    *os.File
	h    hash.Hash
	n    int64
	done bool
}

// Write implements io.Writer, hashing what it writes.
func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *blobWriter) digest() digest.Digest { return digest.NewDigest(digest.SHA256, w.h) }

// commit checks the content against want (computed digest when empty) and
// moves it into the store. It returns the stored digest.
func (w *blobWriter) commit(want digest.Digest) error {
	got := w.digest()
	if want != "" && got != want {
		return fmt.Errorf("verify blob: digest mismatch: got %s, want %s", got, want)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync blob: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close blob: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.b.path(got)); err != nil {
		return fmt.Errorf("store blob %s: %w", got, err)
	}
	w.done = true
	return nil
}

// discard removes the temp file unless committed; safe to defer.
func (w *blobWriter) discard() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// ctxReader returns a reader whose Read fails with ctx.Err() once ctx is
// done, for libraries (umoci, tar) that take no context.
func ctxReader(ctx context.Context, r io.Reader) io.Reader { return &ctxRd{ctx: ctx, r: r} }

type ctxRd struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader, failing once the context is done.
func (c *ctxRd) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
