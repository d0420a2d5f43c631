package stream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

func TestContentType(t *testing.T) {
	for _, tc := range []struct {
		tty     bool
		version string
		want    string
	}{
		{false, "1.47", ContentTypeMultiplexed},
		{false, "1.42", ContentTypeMultiplexed},
		{false, "1.41", ContentTypeRaw},
		{false, "1.24", ContentTypeRaw},
		{false, "", ContentTypeMultiplexed},
		{true, "1.47", ContentTypeRaw},
		{true, "1.41", ContentTypeRaw},
	} {
		if got := ContentType(tc.tty, tc.version); got != tc.want {
			t.Errorf("ContentType(%v, %q) = %q, want %q", tc.tty, tc.version, got, tc.want)
		}
	}
}

const upgradeHeaders = "Upgrade: tcp\r\nConnection: Upgrade\r\n"

// rawResponse is the head of a hijacked response as a client sees it; body
// continues with the stream.
type rawResponse struct {
	conn   halfCloser
	status string
	header textproto.MIMEHeader
	body   *bufio.Reader
}

// halfCloser is a TCP or unix client connection.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// dialRaw sends a hand-written request (head plus optional stdin bytes in
// the same write) and reads the response head.
func dialRaw(t *testing.T, srv *httptest.Server, head, extra string) *rawResponse {
	t.Helper()
	addr := srv.Listener.Addr()
	c, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"Host: docker\r\n\r\n"+extra); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return &rawResponse{conn: c.(halfCloser), status: status, header: hdr, body: br}
}

// hijackHandler hijacks every request and then runs session.
func hijackHandler(t *testing.T, ct string, mux bool, session func(*Streams)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.47")
		s, err := Hijack(w, r, ct, mux)
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer s.Close()
		session(s)
	})
}

// hijackServer serves hijackHandler over TCP.
func hijackServer(t *testing.T, ct string, mux bool, session func(*Streams)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(hijackHandler(t, ct, mux, session))
	t.Cleanup(srv.Close)
	return srv
}

// unixServer serves h on a unix socket, as the daemon does.
func unixServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, sock
}

// echoSession writes a greeting on both streams, copies stdin to stdout
// until EOF, then half-closes.
func echoSession(t *testing.T) func(*Streams) {
	return func(s *Streams) {
		io.WriteString(s.Stdout, "hello ")
		io.WriteString(s.Stderr, "oops")
		if _, err := io.Copy(s.Stdout, s.Stdin); err != nil {
			t.Errorf("copy stdin: %v", err)
		}
		if err := s.CloseWrite(); err != nil {
			t.Errorf("close write: %v", err)
		}
		// Wait for the client to finish reading before closing.
		io.Copy(io.Discard, s.Stdin)
	}
}

func TestHijackUpgradeMultiplexed(t *testing.T) {
	srv := hijackServer(t, ContentTypeMultiplexed, true, echoSession(t))
	resp := dialRaw(t, srv, "POST /v1.47/containers/x/attach?stream=1 HTTP/1.1\r\n"+upgradeHeaders, "")
	if resp.status != "HTTP/1.1 101 UPGRADED" {
		t.Fatalf("status %q", resp.status)
	}
	for k, want := range map[string]string{
		"Content-Type": ContentTypeMultiplexed, "Connection": "Upgrade",
		"Upgrade": "tcp", "Api-Version": "1.47",
	} {
		if got := resp.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	io.WriteString(resp.conn, "world")
	resp.conn.CloseWrite() // stdin EOF ends the server's copy
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, resp.body); err != nil {
		t.Fatalf("demux: %v", err)
	}
	if stdout.String() != "hello world" || stderr.String() != "oops" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// TestHijackUnixHalfClose runs a session over a unix socket, where the
// daemon usually listens: half-closes work in both directions.
func TestHijackUnixHalfClose(t *testing.T) {
	srv, _ := unixServer(t, hijackHandler(t, ContentTypeMultiplexed, true, echoSession(t)))
	resp := dialRaw(t, srv, "POST /containers/x/attach HTTP/1.1\r\n"+upgradeHeaders, "")
	io.WriteString(resp.conn, "unix")
	resp.conn.CloseWrite()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, resp.body); err != nil {
		t.Fatalf("demux: %v", err)
	}
	if stdout.String() != "hello unix" || stderr.String() != "oops" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// TestHijackMobyClient attaches with the Go client the docker CLI uses.
func TestHijackMobyClient(t *testing.T) {
	_, sock := unixServer(t, hijackHandler(t, ContentTypeMultiplexed, true, echoSession(t)))
	cli, err := client.New(client.WithHost("unix://"+sock), client.WithAPIVersion("1.47"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	res, err := cli.ContainerAttach(t.Context(), "x", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if mt, _ := res.MediaType(); mt != ContentTypeMultiplexed {
		t.Errorf("media type %q", mt)
	}
	io.WriteString(res.Conn, "client")
	if err := res.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, res.Reader); err != nil {
		t.Fatalf("demux: %v", err)
	}
	if stdout.String() != "hello client" || stderr.String() != "oops" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestHijackRawWithoutUpgrade(t *testing.T) {
	srv := hijackServer(t, ContentTypeRaw, false, echoSession(t))
	resp := dialRaw(t, srv, "POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\n", "")
	if resp.status != "HTTP/1.1 200 OK" {
		t.Fatalf("status %q", resp.status)
	}
	if got := resp.header.Get("Content-Type"); got != ContentTypeRaw {
		t.Errorf("content type %q", got)
	}
	if _, ok := resp.header["Upgrade"]; ok {
		t.Errorf("unexpected Upgrade header on 200")
	}
	io.WriteString(resp.conn, "world")
	resp.conn.CloseWrite()
	out, err := io.ReadAll(resp.body)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "hello oopsworld" {
		t.Errorf("raw output %q", out)
	}
}

// TestHijackBodyAndBufferedStdin sends an exec start body that the handler
// reads only in part, and stdin in the same packet: stdin must be exactly
// what follows the body.
func TestHijackBodyAndBufferedStdin(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read only part of the body, as a handler that stops early would.
		if _, err := io.ReadFull(r.Body, make([]byte, 10)); err != nil {
			t.Errorf("read body: %v", err)
		}
		s, err := Hijack(w, r, ContentTypeRaw, false)
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer s.Close()
		b, _ := io.ReadAll(s.Stdin)
		got <- string(b)
	}))
	defer srv.Close()
	body := "{\"Detach\":false,\"Tty\":true}\n  \n"
	head := "POST /exec/1/start HTTP/1.1\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" + upgradeHeaders
	resp := dialRaw(t, srv, head, body+"stdin-data")
	resp.conn.CloseWrite()
	if s := <-got; s != "stdin-data" {
		t.Errorf("stdin %q, want %q", s, "stdin-data")
	}
}

// TestHijackConcurrentFrames writes from many goroutines on both streams;
// the demuxer fails on any interleaved frame.
func TestHijackConcurrentFrames(t *testing.T) {
	const writers, writes = 8, 200
	chunk := bytes.Repeat([]byte("x"), 3000)
	srv := hijackServer(t, ContentTypeMultiplexed, true, func(s *Streams) {
		var wg sync.WaitGroup
		for i := range writers {
			w := s.Stdout
			if i%2 == 1 {
				w = s.Stderr
			}
			wg.Go(func() {
				for range writes {
					if _, err := w.Write(chunk); err != nil {
						t.Errorf("write: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		s.CloseWrite()
		io.Copy(io.Discard, s.Stdin)
	})
	resp := dialRaw(t, srv, "POST /containers/x/attach HTTP/1.1\r\n"+upgradeHeaders, "")
	defer resp.conn.CloseWrite()
	var stdout, stderr countWriter
	if _, err := stdcopy.StdCopy(&stdout, &stderr, resp.body); err != nil {
		t.Fatalf("demux: %v", err)
	}
	want := writers / 2 * writes * len(chunk)
	if int(stdout) != want || int(stderr) != want {
		t.Errorf("stdout %d stderr %d bytes, want %d each", stdout, stderr, want)
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	if bytes.Count(p, []byte("x")) != len(p) {
		return 0, errors.New("corrupt payload")
	}
	*c += countWriter(len(p))
	return len(p), nil
}

// TestHijackClearsDeadlines checks that the server's ReadTimeout does not
// cut a long session, and that closing Stdin unblocks a read while output
// still flows.
func TestHijackClearsDeadlines(t *testing.T) {
	readErr := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Hijack(w, r, ContentTypeRaw, false)
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer s.Close()
		buf := make([]byte, 5)
		_, err = io.ReadFull(s.Stdin, buf) // arrives after ReadTimeout
		readErr <- err
		go func() { time.Sleep(50 * time.Millisecond); s.Stdin.Close() }()
		_, err = s.Stdin.Read(buf) // blocks until Close
		readErr <- err
		io.WriteString(s.Stdout, "still here")
	}))
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp := dialRaw(t, srv, "POST /containers/x/attach HTTP/1.1\r\n", "")
	time.Sleep(300 * time.Millisecond)
	io.WriteString(resp.conn, "late!")
	if err := <-readErr; err != nil {
		t.Fatalf("read after server timeout: %v", err)
	}
	if err := <-readErr; err != io.EOF {
		t.Fatalf("read after Stdin.Close: %v, want io.EOF", err)
	}
	out, _ := io.ReadAll(resp.body)
	if string(out) != "still here" {
		t.Errorf("output %q", out)
	}
}

// TestHijackEcho runs Hijack behind echo, whose Response wraps the writer.
func TestHijackEcho(t *testing.T) {
	e := echo.New()
	e.POST("/exec/:id/start", func(c echo.Context) error {
		c.Response().Header().Set("Docker-Experimental", "false")
		s, err := Hijack(c.Response(), c.Request(), ContentTypeMultiplexed, true)
		if err != nil {
			return err
		}
		defer s.Close()
		echoSession(t)(s)
		return nil
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp := dialRaw(t, srv, "POST /exec/1/start HTTP/1.1\r\n"+upgradeHeaders, "")
	if resp.status != "HTTP/1.1 101 UPGRADED" || resp.header.Get("Docker-Experimental") != "false" {
		t.Fatalf("status %q header %v", resp.status, resp.header)
	}
	io.WriteString(resp.conn, "echo")
	resp.conn.CloseWrite()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, resp.body); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello echo" || stderr.String() != "oops" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestFrameWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewFrameWriter(&buf, stdcopy.Stderr, nil)
	n, err := w.Write([]byte("abc"))
	if err != nil || n != 3 {
		t.Fatalf("write = %d, %v", n, err)
	}
	if n, _ := w.Write(nil); n != 0 || buf.Len() != 11 {
		t.Fatalf("empty write produced output: %d bytes", buf.Len())
	}
	want := []byte{2, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("frame %v, want %v", buf.Bytes(), want)
	}
}
