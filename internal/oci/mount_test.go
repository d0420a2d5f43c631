package oci

import (
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
)

// mountRegistry wraps go-containerregistry's in-memory registry (one blob
// pool for all repositories, no mount support) so that blobs belong to the
// repositories they were uploaded or mounted to, as in a real registry:
// HEAD answers 404 for a blob of another repository, and POST
// .../blobs/uploads/?mount=<d>&from=<repo> mounts (201) when <repo> has
// the blob and refuse is false. It counts completed uploads per digest.
type mountRegistry struct {
	*httptest.Server
	inner   http.Handler
	mu      sync.Mutex
	has     map[string]map[string]bool // repo -> blob digests
	uploads map[string]int             // digest -> completed uploads
	mounts  []string                   // "digest from -> to"
	refuse  bool
}

func newMountRegistry(t *testing.T) *mountRegistry {
	m := &mountRegistry{has: map[string]map[string]bool{}, uploads: map[string]int{}}
	m.inner = registry.New(registry.Logger(stdlog.New(io.Discard, "", 0)))
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *mountRegistry) host() string { return strings.TrimPrefix(m.URL, "http://") }

func (m *mountRegistry) serve(w http.ResponseWriter, r *http.Request) {
	repo, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/blobs/")
	if !ok {
		m.inner.ServeHTTP(w, r)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodHead && !m.has[repo][rest]:
		w.WriteHeader(http.StatusNotFound)
		return
	case r.Method == http.MethodPost && q.Get("mount") != "" && !m.refuse && m.has[q.Get("from")][q.Get("mount")]:
		m.add(repo, q.Get("mount"))
		m.mounts = append(m.mounts, q.Get("mount")+" "+q.Get("from")+" -> "+repo)
		w.Header().Set("Location", "/v2/"+repo+"/blobs/"+q.Get("mount"))
		w.WriteHeader(http.StatusCreated)
		return
	case r.Method == http.MethodPut && q.Get("digest") != "":
		m.add(repo, q.Get("digest"))
		m.uploads[q.Get("digest")]++
	}
	m.inner.ServeHTTP(w, r)
}

func (m *mountRegistry) add(repo, d string) {
	if m.has[repo] == nil {
		m.has[repo] = map[string]bool{}
	}
	m.has[repo][d] = true
}

func (m *mountRegistry) counts() (map[string]int, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	uploads := map[string]int{}
	for k, v := range m.uploads {
		uploads[k] = v
	}
	return uploads, append([]string(nil), m.mounts...)
}

// TestPushMountsFromOtherRepository pulls repo a and pushes the image to
// repo b of the same registry: every layer is mounted, none uploaded.
func TestPushMountsFromOtherRepository(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newMountRegistry(t)
	img := imageOfLayers(t, "amd64", "mount", baseLayers(t)...)
	src := reg.host() + "/a:1"
	pushTestImage(t, src, img)
	if _, err := s.Pull(ctx, src, PullOpt{}); err != nil {
		t.Fatal(err)
	}
	before, _ := reg.counts()
	dst := reg.host() + "/b:1"
	if err := s.Tag(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	var pl progressLog
	if _, _, err := s.Push(ctx, dst, PushOpt{Progress: pl.fn}); err != nil {
		t.Fatalf("push: %v", err)
	}
	after, mounts := reg.counts()
	layers := storedLayers(t, s, dst)
	for _, d := range layers {
		if after[d] != before[d] {
			t.Errorf("layer %s was uploaded %d times", d, after[d]-before[d])
		}
	}
	if len(mounts) != len(layers) || pl.count("Mounted from a") != len(layers) {
		t.Errorf("want %d mounts and progress lines, got mounts %v, progress %+v", len(layers), mounts, pl.lines)
	}
	if n := pl.count("Layer already exists") + pl.count("Pushed"); n != 0 {
		t.Errorf("mounted layers also reported as pushed or existing: %+v", pl.lines)
	}
	// Pushing again: b is known to hold the layers, so no mount is tried.
	var pl2 progressLog
	if _, _, err := s.Push(ctx, dst, PushOpt{Progress: pl2.fn}); err != nil {
		t.Fatal(err)
	}
	if _, again := reg.counts(); len(again) != len(mounts) || pl2.count("Layer already exists") != len(layers) {
		t.Errorf("second push: mounts %v, progress %+v", again, pl2.lines)
	}
}

// TestPushMountRefused falls back to uploading when the registry refuses
// the mounts, and the pushed repository becomes a mount source itself.
func TestPushMountRefused(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newMountRegistry(t)
	img := imageOfLayers(t, "amd64", "refused", baseLayers(t)...)
	src := reg.host() + "/a:1"
	pushTestImage(t, src, img)
	if _, err := s.Pull(ctx, src, PullOpt{}); err != nil {
		t.Fatal(err)
	}
	reg.mu.Lock()
	reg.refuse = true
	reg.mu.Unlock()
	dst := reg.host() + "/b:1"
	if err := s.Tag(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	var pl progressLog
	if _, _, err := s.Push(ctx, dst, PushOpt{Progress: pl.fn}); err != nil {
		t.Fatalf("push: %v", err)
	}
	uploads, mounts := reg.counts()
	for _, d := range storedLayers(t, s, dst) {
		if uploads[d] != 2 {
			t.Errorf("layer %s uploaded %d times, want 2 (a by the test, b by the push)", d, uploads[d])
		}
	}
	if len(mounts) != 0 || pl.count("Pushed") != 3 {
		t.Errorf("mounts %v, progress %+v", mounts, pl.lines)
	}
	want := []string{reg.host() + "/b", reg.host() + "/a"}
	if got := s.repos.repos(digest.Digest(storedLayers(t, s, dst)[0])); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("blob repositories %v, want %v", got, want)
	}
}

// pushTestImage writes img to the registry as ref.
func pushTestImage(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push test image: %v", err)
	}
}

// storedLayers returns the layer digests of the stored image ref.
func storedLayers(t *testing.T, s *Store, ref string) []string {
	t.Helper()
	rec, err := s.resolve(mustRef(t, ref).TagRef())
	if err != nil {
		t.Fatal(err)
	}
	var mf struct {
		Layers []struct{ Digest string }
	}
	if err := s.blobs.readJSON(rec.ManifestDigest, &mf); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(mf.Layers))
	for _, l := range mf.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func mustRef(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBlobReposIndex checks the index's order, bound, pruning and
// persistence.
func TestBlobReposIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blobrepos.json")
	br, err := loadBlobRepos(path)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := digest.FromString("one"), digest.FromString("two")
	stored := map[digest.Digest]bool{d1: true, d2: true}
	has := func(d digest.Digest) bool { return stored[d] }
	for i := range maxReposPerBlob + 3 {
		if err := br.add("example.com/r"+string(rune('a'+i)), []digest.Digest{d1}, has); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.add("example.com/ra", []digest.Digest{d1, d2}, has); err != nil {
		t.Fatal(err)
	}
	got := br.repos(d1)
	if len(got) != maxReposPerBlob || got[0] != "example.com/ra" || got[1] != "example.com/r"+string(rune('a'+maxReposPerBlob+2)) {
		t.Errorf("repos of d1: %v", got)
	}
	delete(stored, d2)
	if err := br.add("example.com/x", nil, has); err != nil {
		t.Fatal(err)
	}
	again, err := loadBlobRepos(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.repos(d2)) != 0 || strings.Join(again.repos(d1), ",") != strings.Join(got, ",") {
		t.Errorf("reloaded index: d1 %v, d2 %v", again.repos(d1), again.repos(d2))
	}
}
