package stream

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/moby/moby/client/pkg/versions"
	"golang.org/x/net/http/httpguts"
)

// Content types of attach, exec start and logs responses.
const (
	// ContentTypeRaw is a plain byte stream: TTY output, or any output
	// before API 1.42.
	ContentTypeRaw = "application/vnd.docker.raw-stream"
	// ContentTypeMultiplexed is stdout and stderr in stdcopy frames.
	ContentTypeMultiplexed = "application/vnd.docker.multiplexed-stream"
)

// ContentType picks the Content-Type of an attach, exec start or logs
// response. With a TTY the output is never multiplexed; before API 1.42
// Docker labelled multiplexed output as a raw stream too. An empty
// apiVersion means the newest API.
func ContentType(tty bool, apiVersion string) string {
	if tty || (apiVersion != "" && versions.LessThan(apiVersion, "1.42")) {
		return ContentTypeRaw
	}
	return ContentTypeMultiplexed
}

// Hijack takes over the client connection of an attach or exec start
// request and writes the response head itself: "101 UPGRADED" when the
// client asked for "Upgrade: tcp" with "Connection: Upgrade", "200 OK"
// otherwise, with contentType and any headers already set on w (API
// version, server name). multiplexed selects stdcopy framing for Stdout and
// Stderr; pass false when the process has a TTY.
//
// Call it only after every check that could fail with an error status, and
// before anything is written to w. An unread request body is discarded so
// it cannot leak into stdin. Deadlines the HTTP server set on the
// connection are cleared: a session may last for days. Errors after the
// connection was taken over wrap http.ErrHijacked; the connection is then
// closed and nothing more can be sent to the client.
func Hijack(w http.ResponseWriter, r *http.Request, contentType string, multiplexed bool) (*Streams, error) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return nil, fmt.Errorf("discard request body: %w", err)
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	if err := startStream(conn, brw, w.Header(), upgradeRequested(r), contentType); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start stream: %w: %w", err, http.ErrHijacked)
	}
	return newStreams(conn, stdinSource(conn, brw.Reader), multiplexed), nil
}

// upgradeRequested reports whether the client asked to switch to a raw TCP
// stream, as the Docker CLI does.
func upgradeRequested(r *http.Request) bool {
	return httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "tcp") &&
		httpguts.HeaderValuesContainsToken(r.Header["Connection"], "Upgrade")
}

// headersSetByHijack are written by startStream itself, or make no sense on
// a stream that ends when the connection closes.
var headersSetByHijack = map[string]bool{
	"Content-Type":      true,
	"Connection":        true,
	"Upgrade":           true,
	"Content-Length":    true,
	"Transfer-Encoding": true,
}

// startStream clears the server's deadlines and writes the response head.
func startStream(conn net.Conn, brw *bufio.ReadWriter, h http.Header, upgrade bool, contentType string) error {
	// net/http clears its deadlines on hijack; other servers may not.
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return err
	}
	if upgrade {
		fmt.Fprintf(brw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", contentType)
	} else {
		fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n", contentType)
	}
	if err := h.WriteSubset(brw, headersSetByHijack); err != nil {
		return err
	}
	if _, err := brw.WriteString("\r\n"); err != nil {
		return err
	}
	return brw.Flush()
}

// stdinSource reads what the server had already buffered, then the
// connection itself.
func stdinSource(conn net.Conn, br *bufio.Reader) io.Reader {
	n := br.Buffered()
	if n == 0 {
		return conn
	}
	return io.MultiReader(io.LimitReader(br, int64(n)), conn)
}
