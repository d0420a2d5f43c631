package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/moby/moby/client"
)

// Response is a fully read HTTP response.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Body is the whole body.
	Body []byte
}

// JSON decodes the body into v and fails t if it is not valid JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode body %q: %v", r.Body, err)
	}
}

// Client returns a github.com/moby/moby/client client for the daemon's
// socket. It negotiates the API version on its first request and is closed
// when t ends.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(d.Host()))
	if err != nil {
		t.Fatalf("create docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Curl sends one raw request to the daemon's socket; path is everything
// after the host ("/v1.21/_ping", "/events?until=1"). Headers can be added
// with Do. The request is bound to t's context.
func (d *Daemon) Curl(t testing.TB, method, path string, body io.Reader) *Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://docker"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return Do(t, d.HTTPClient(), req)
}

// Do sends req with c, reads the whole response and fails t on a transport
// error.
func Do(t testing.TB, c *http.Client, req *http.Request) *Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}
}
