package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// UnixHTTPClient returns an HTTP client that sends every request to the unix
// socket at path, whatever the URL's host ("http://docker/_ping").
func UnixHTTPClient(path string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableCompression: true,
	}
	return &http.Client{Transport: tr}
}

// HTTPClient returns a client bound to the daemon's default socket; use the
// URL base "http://docker".
func (d *Daemon) HTTPClient() *http.Client { return UnixHTTPClient(d.SocketPath()) }

// Ping sends GET base+"/_ping" and succeeds on 200 with body "OK".
func Ping(ctx context.Context, c *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ping", nil)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
		return fmt.Errorf("ping: status %d, body %q", resp.StatusCode, body)
	}
	return nil
}
