package stream

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/moby/moby/client/pkg/versions"
	"golang.org/x/net/websocket"
)

// UpgradeWebsocket completes the websocket handshake of
// GET /containers/{id}/attach/ws and returns the session as Streams. The
// output is never multiplexed: Stdout and Stderr both send raw messages,
// binary frames from API 1.28 on (text frames before, as Docker did).
// Stdin yields the payload of the client's messages.
//
// As with Hijack, call it after every check that could fail with a status,
// before anything is written to w. If the handshake fails the client has
// already been answered (400, 403 or 426) and the error wraps
// http.ErrHijacked. The Origin header is not checked (moby doesn't either);
// guard the socket, not the route.
func UpgradeWebsocket(w http.ResponseWriter, r *http.Request, apiVersion string) (*Streams, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	ws, err := websocketHandshake(conn, brw, r)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("upgrade websocket: %w: %w", err, http.ErrHijacked)
	}
	if apiVersion == "" || versions.GreaterThanOrEqualTo(apiVersion, "1.28") {
		ws.PayloadType = websocket.BinaryFrame
	}
	return newWebsocketStreams(conn, ws), nil
}

// errHandshake reports a handshake that the websocket library refused (and
// already answered).
var errHandshake = errors.New("websocket handshake refused")

// websocketHandshake runs the server handshake of x/net/websocket on an
// already hijacked connection. The library insists on hijacking and on
// closing the connection when its handler returns, so it is handed the
// connection through a hijacker that shields it from that close; the
// handler only captures the websocket.
func websocketHandshake(conn net.Conn, brw *bufio.ReadWriter, r *http.Request) (*websocket.Conn, error) {
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	var ws *websocket.Conn
	srv := websocket.Server{Handler: func(c *websocket.Conn) { ws = c }}
	srv.ServeHTTP(&hijackedWriter{conn: keepOpenConn{conn}, brw: brw}, r)
	if ws == nil {
		return nil, errHandshake
	}
	return ws, nil
}

// newWebsocketStreams wraps ws; Close sends a close frame, then closes the
// real connection (ws only holds a shielded one).
func newWebsocketStreams(conn net.Conn, ws *websocket.Conn) *Streams {
	return newStreams(&websocketConn{Conn: ws, raw: conn}, ws, false)
}

// websocketConn closes both the websocket and the connection under it.
type websocketConn struct {
	*websocket.Conn
	raw net.Conn
}

// Close implements net.Conn.
func (c *websocketConn) Close() error {
	err := c.Conn.Close()
	if rerr := c.raw.Close(); err == nil {
		err = rerr
	}
	return err
}

// keepOpenConn ignores Close so that the websocket library cannot close a
// connection it does not own.
type keepOpenConn struct{ net.Conn }

// Close implements net.Conn; the owner closes the real connection.
func (keepOpenConn) Close() error { return nil }

// hijackedWriter hands an already hijacked connection to a library that
// wants to hijack it itself. Only Hijack is meaningful.
type hijackedWriter struct {
	conn net.Conn
	brw  *bufio.ReadWriter
	hdr  http.Header
}

// Header implements http.ResponseWriter.
func (h *hijackedWriter) Header() http.Header {
	if h.hdr == nil {
		h.hdr = http.Header{}
	}
	return h.hdr
}

// Write implements http.ResponseWriter; the connection is already taken.
func (h *hijackedWriter) Write([]byte) (int, error) { return 0, http.ErrHijacked }

// WriteHeader implements http.ResponseWriter; it does nothing.
func (h *hijackedWriter) WriteHeader(int) {}

// Hijack implements http.Hijacker.
func (h *hijackedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, h.brw, nil
}
