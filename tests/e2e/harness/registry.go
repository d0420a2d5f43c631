package harness

import (
	"log"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// StartRegistry runs an in-memory OCI registry (go-containerregistry
// pkg/registry) on a loopback port for the duration of t and returns its
// "127.0.0.1:port". Loopback registries are plain HTTP, as Docker expects.
func StartRegistry(t testing.TB) string {
	t.Helper()
	logger := log.New(testWriter{t}, "registry: ", 0)
	srv := httptest.NewServer(registry.New(registry.Logger(logger)))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// testWriter sends a log.Logger's lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
