package oci

import (
	"archive/tar"
	"bytes"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

// testRegistry is an in-process registry on 127.0.0.1 that counts blob
// downloads and can cut one blob half way.
type testRegistry struct {
	*httptest.Server
	mu       sync.Mutex
	blobGets map[string]int // digest -> GET count
	cut      string         // digest to truncate once
}

func newTestRegistry(t testing.TB) *testRegistry {
	t.Helper()
	tr := &testRegistry{blobGets: map[string]int{}}
	inner := registry.New(registry.Logger(stdlog.New(io.Discard, "", 0)),
		registry.WithBlobHandler(registry.NewDiskBlobHandler(t.TempDir())))
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			d := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			tr.mu.Lock()
			tr.blobGets[d]++
			cut := tr.cut == d
			if cut {
				tr.cut = ""
			}
			tr.mu.Unlock()
			if cut {
				cutBlob(w, r, inner)
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.Close)
	return tr
}

// cutBlob sends the headers and half the body, then drops the connection.
func cutBlob(w http.ResponseWriter, r *http.Request, inner http.Handler) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	w.Header().Set("Content-Length", strings.TrimSpace(rec.Header().Get("Content-Length")))
	w.WriteHeader(rec.Code)
	w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func (tr *testRegistry) host() string { return strings.TrimPrefix(tr.URL, "http://") }

func (tr *testRegistry) gets() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[string]int{}
	for k, v := range tr.blobGets {
		out[k] = v
	}
	return out
}

func (tr *testRegistry) resetCounts() {
	tr.mu.Lock()
	tr.blobGets = map[string]int{}
	tr.mu.Unlock()
}

// push writes img to the registry under repo:tag and returns the full ref.
func (tr *testRegistry) push(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(tr.host()+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push test image: %v", err)
	}
	return tr.host() + "/" + repoTag
}

// tarOf builds a tar stream from path -> content entries; a path ending
// in "/" is a directory, content "->target" a symlink.
func tarOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		switch {
		case strings.HasSuffix(e[0], "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case strings.HasPrefix(e[1], "->"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e[1][2:], 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, e[1])
		}
	}
	tw.Close()
	return buf.Bytes()
}

func layerOf(t testing.TB, entries ...[2]string) v1.Layer {
	t.Helper()
	data := tarOf(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// imageOf builds an image from layers with a marker in its config so
// different test images get different IDs.
func imageOfLayers(t testing.TB, arch, marker string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.Labels = map[string]string{"marker": marker}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// baseLayers are three layers: files, a whiteout of one of them, a dir.
func baseLayers(t testing.TB) []v1.Layer {
	return []v1.Layer{
		layerOf(t, [2]string{"etc/", ""}, [2]string{"etc/a", "A"}, [2]string{"etc/b", "B"}),
		layerOf(t, [2]string{"etc/", ""}, [2]string{"etc/.wh.a", ""}, [2]string{"etc/c", "C"}),
		layerOf(t, [2]string{"bin/", ""}, [2]string{"bin/sh", "#!shell"}, [2]string{"bin/ash", "->sh"}),
	}
}

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// indexOf builds an OCI index with one image per architecture.
func indexOf(t testing.TB, imgs map[string]v1.Image) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for arch, img := range imgs {
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch},
		}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func pushIndex(t testing.TB, ref string, idx v1.ImageIndex) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push index: %v", err)
	}
}

func digestFromString(s string) digest.Digest { return digest.Digest(s) }
