package stream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/websocket"
)

// frameCodec receives one message and records its frame type.
var frameCodec = websocket.Codec{
	Marshal: func(v any) ([]byte, byte, error) { return []byte(v.(string)), websocket.TextFrame, nil },
	Unmarshal: func(data []byte, typ byte, v any) error {
		m := v.(*wsMessage)
		m.data, m.typ = string(data), typ
		return nil
	},
}

type wsMessage struct {
	data string
	typ  byte
}

// wsServer upgrades with apiVersion and echoes stdin on stdout and a
// greeting on stderr; result receives the session's error.
func wsServer(t *testing.T, apiVersion string, result chan<- error) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := UpgradeWebsocket(w, r, apiVersion)
		if err != nil {
			result <- err
			return
		}
		defer s.Close()
		io.WriteString(s.Stderr, "ready")
		_, err = io.Copy(s.Stdout, s.Stdin)
		result <- err
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUpgradeWebsocketRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		version string
		typ     byte
	}{
		{"1.47", websocket.BinaryFrame},
		{"1.28", websocket.BinaryFrame},
		{"1.27", websocket.TextFrame},
	} {
		t.Run(tc.version, func(t *testing.T) {
			result := make(chan error, 1)
			srv := wsServer(t, tc.version, result)
			ws, err := websocket.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/containers/x/attach/ws?stream=1", "", "http://localhost/")
			if err != nil {
				t.Fatal(err)
			}
			expectMessage(t, ws, "ready", tc.typ)
			if err := frameCodec.Send(ws, "ping"); err != nil {
				t.Fatal(err)
			}
			expectMessage(t, ws, "ping", tc.typ)
			ws.Close() // the server's stdin ends
			if err := <-result; err != nil {
				t.Errorf("server copy: %v", err)
			}
		})
	}
}

func expectMessage(t *testing.T, ws *websocket.Conn, data string, typ byte) {
	t.Helper()
	var m wsMessage
	if err := frameCodec.Receive(ws, &m); err != nil {
		t.Fatal(err)
	}
	if m.data != data || m.typ != typ {
		t.Errorf("message %q type %d, want %q type %d", m.data, m.typ, data, typ)
	}
}

// TestUpgradeWebsocketRefused sends a plain request: the library answers
// 400 and UpgradeWebsocket reports that the connection is gone.
func TestUpgradeWebsocketRefused(t *testing.T) {
	result := make(chan error, 1)
	srv := wsServer(t, "1.47", result)
	resp, err := http.Get(srv.URL + "/containers/x/attach/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if err := <-result; !errors.Is(err, http.ErrHijacked) {
		t.Errorf("error %v, want one wrapping http.ErrHijacked", err)
	}
}

// TestWebsocketCloseWrite checks that CloseWrite, which a websocket cannot
// do by halves, ends the session for the client.
func TestWebsocketCloseWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := UpgradeWebsocket(w, r, "")
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		io.WriteString(s.Stdout, "bye")
		if err := s.CloseWrite(); err != nil {
			t.Errorf("close write: %v", err)
		}
	}))
	defer srv.Close()
	ws, err := websocket.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	expectMessage(t, ws, "bye", websocket.BinaryFrame)
	var m wsMessage
	if err := frameCodec.Receive(ws, &m); err != io.EOF {
		t.Errorf("after CloseWrite: %v, want io.EOF", err)
	}
}
