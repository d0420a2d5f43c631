package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// cutWait bounds how long a cut blob response waits for the blobs it was
// told to let through first;
// cutGrace is how long it then lets the client finish with those blobs.
const (
	cutWait  = 10 * time.Second
	cutGrace = time.Second
)

// Registry is a loopback registry (see StartRegistry) that counts blob GETs
// and can cut blob responses half way, to test interrupted pulls.
type Registry struct {
	// Host is the registry's "127.0.0.1:port".
	Host string

	mu     sync.Mutex
	gets   map[string]int      // blob digest -> GET requests
	served map[string]int      // blob digest -> complete GET responses
	cut    map[string][]string // blob digest -> blobs to let through before cutting
}

// StartCountingRegistry runs an in-memory registry like StartRegistry,
// wrapped so that blob GETs are counted (BlobGets, BlobServed) and can be
// interrupted (Cut).
func StartCountingRegistry(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{gets: map[string]int{}, served: map[string]int{}, cut: map[string][]string{}}
	srv := httptest.NewServer(r.wrap(registryHandler(t)))
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Cut makes every GET of blob digest (a "sha256:..." string) send its
// headers and half its body, then drop the connection, until Uncut. Each
// cut response first waits (up to 10 s) until every blob in waitFor has
// been served completely, so that a parallel downloader finishes those.
func (r *Registry) Cut(digest string, waitFor ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cut[digest] = waitFor
}

// Uncut lets GETs of blob digest through again.
func (r *Registry) Uncut(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cut, digest)
}

// BlobGets returns how many GET requests blob digest received.
func (r *Registry) BlobGets(digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets[digest]
}

// BlobServed returns how many GETs of blob digest were answered completely.
func (r *Registry) BlobServed(digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served[digest]
}

// Ref returns "host/repo" (repo may carry a tag or digest).
func (r *Registry) Ref(repo string) string { return r.Host + "/" + repo }

// wrap counts blob GETs and cuts the armed ones.
func (r *Registry) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		digest, ok := blobDigest(req)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		waitFor, cut := r.countGet(digest)
		if !cut {
			next.ServeHTTP(w, req)
			r.markServed(digest)
			return
		}
		r.waitServed(req.Context(), waitFor)
		cutResponse(w, req, next)
	})
}

// blobDigest returns the digest of a GET /v2/<name>/blobs/<digest>.
func blobDigest(req *http.Request) (string, bool) {
	if req.Method != http.MethodGet {
		return "", false
	}
	i := strings.LastIndex(req.URL.Path, "/blobs/")
	if !strings.HasPrefix(req.URL.Path, "/v2/") || i < 0 {
		return "", false
	}
	d := req.URL.Path[i+len("/blobs/"):]
	return d, strings.HasPrefix(d, "sha256:")
}

func (r *Registry) countGet(digest string) ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gets[digest]++
	waitFor, cut := r.cut[digest]
	return waitFor, cut
}

func (r *Registry) markServed(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.served[digest]++
}

// waitServed polls until every digest was served once, ctx ends or cutWait
// passes; then, like a slow link, it gives the client cutGrace to verify
// and store what it received before the cut lands.
func (r *Registry) waitServed(ctx context.Context, digests []string) {
	deadline := time.Now().Add(cutWait)
	for time.Now().Before(deadline) && ctx.Err() == nil && !r.allServed(digests) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(digests) > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(cutGrace):
		}
	}
}

func (r *Registry) allServed(digests []string) bool {
	for _, d := range digests {
		if r.BlobServed(d) == 0 {
			return false
		}
	}
	return true
}

// cutResponse sends next's headers, with the full Content-Length, and half
// of its body, then aborts the connection.
func cutResponse(w http.ResponseWriter, req *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	if rec.Code != http.StatusOK || len(body) < 2 {
		_, _ = w.Write(body)
		return
	}
	_, _ = w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}
