package harness

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// TestTLSFixture serves with the fixture's server certificate and client CA
// the way the daemon must, and checks the two clients it hands out.
func TestTLSFixture(t *testing.T) {
	x := NewTLS(t)
	srvCert, err := tls.LoadX509KeyPair(x.ServerCert, x.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(x.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA file holds no certificate")
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("OK"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if r := Do(t, x.HTTPClient(true), req); r.StatusCode != http.StatusOK {
		t.Errorf("with client cert: %d", r.StatusCode)
	}
	if resp, err := x.HTTPClient(false).Do(req); err == nil {
		resp.Body.Close()
		t.Error("without client cert: request succeeded")
	}
}
