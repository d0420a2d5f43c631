package e2e

import (
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// mountingRegistry is the harness's in-memory registry with blobs owned
// per repository and cross-repository mount support, which the
// go-containerregistry registry lacks (it keeps one blob pool and ignores
// ?mount=). POST /v2/<repo>/blobs/uploads/?mount=<d>&from=<src> answers
// 201 when <src> holds <d>, as the distribution registry does.
type mountingRegistry struct {
	host    string
	inner   http.Handler
	mu      sync.Mutex
	has     map[string]map[string]bool // repo -> blob digests
	uploads map[string]int             // digest -> completed uploads
	mounts  int
}

func startMountingRegistry(t *testing.T) *mountingRegistry {
	r := &mountingRegistry{has: map[string]map[string]bool{}, uploads: map[string]int{}}
	r.inner = registry.New(registry.Logger(log.New(testLogWriter{t}, "registry: ", 0)))
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *mountingRegistry) serve(w http.ResponseWriter, req *http.Request) {
	repo, rest, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/blobs/")
	if !ok {
		r.inner.ServeHTTP(w, req)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	q := req.URL.Query()
	switch {
	case req.Method == http.MethodHead && !r.has[repo][rest]:
		w.WriteHeader(http.StatusNotFound)
		return
	case req.Method == http.MethodPost && q.Get("mount") != "" && r.has[q.Get("from")][q.Get("mount")]:
		r.add(repo, q.Get("mount"))
		r.mounts++
		w.Header().Set("Location", "/v2/"+repo+"/blobs/"+q.Get("mount"))
		w.WriteHeader(http.StatusCreated)
		return
	case req.Method == http.MethodPut && q.Get("digest") != "":
		r.add(repo, q.Get("digest"))
		r.uploads[q.Get("digest")]++
	}
	r.inner.ServeHTTP(w, req)
}

func (r *mountingRegistry) add(repo, d string) {
	if r.has[repo] == nil {
		r.has[repo] = map[string]bool{}
	}
	r.has[repo][d] = true
}

func (r *mountingRegistry) counts() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.uploads {
		out[k] = v
	}
	return out, r.mounts
}

// testLogWriter sends the registry's log lines to t.Log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestPushMountsFromOtherRepository pulls REG/a:1, tags it REG/b:1 and
// pushes it: every layer is mounted from a ("Mounted from a"), none is
// uploaded again.
func TestPushMountsFromOtherRepository(t *testing.T) {
	d := harness.Shared(t)
	reg := startMountingRegistry(t)
	img := harness.RandomImage(t, harness.ImageSpec{Layers: 3, LayerSize: 4096})
	src, dst := reg.host+"/a:1", reg.host+"/b:1"
	harness.PushImage(t, src, img)
	d.DockerOK(t, "pull", src)
	d.DockerOK(t, "tag", src, dst)
	r := d.Docker(t, "push", dst)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "1: digest: "+harness.ManifestDigest(t, img)) {
		t.Fatalf("want exit 0 and the manifest digest in stdout, got\n%s", r)
	}
	uploads, mounts := reg.counts()
	for _, l := range harness.LayerDigests(t, img) {
		short := strings.TrimPrefix(l, "sha256:")[:12]
		if !strings.Contains(r.Stdout, short+": Mounted from a\n") {
			t.Errorf("no %q line in push output:\n%s", short+": Mounted from a", r)
		}
		if uploads[l] != 1 {
			t.Errorf("layer %s uploaded %d times, want once (by the test's own push to a)", l, uploads[l])
		}
	}
	if mounts != 3 {
		t.Errorf("registry mounted %d blobs, want 3", mounts)
	}
	if got := harness.RemoteImage(t, dst); harness.ManifestDigest(t, got) != harness.ManifestDigest(t, img) {
		t.Errorf("registry has %s for b:1, want %s", harness.ManifestDigest(t, got), harness.ManifestDigest(t, img))
	}
	d.DockerOK(t, "rmi", src, dst)
}
