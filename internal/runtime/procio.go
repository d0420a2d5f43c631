package runtime

import (
	"io"
	"net"
	"os"
	"sync"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// procIO holds the shim's ends of one process's stdio: pipes, or the
// master side of a pty that libcontainer's init sends over a socket.
type procIO struct {
	tty     bool
	stdin   io.WriteCloser
	console *os.File
	stdout  *os.File
	stderr  *os.File
	child   []*os.File
	sock    *os.File
}

// newProcIO wires p's stdio. withStdin gives the process a stdin pipe;
// without it the process reads /dev/null.
func newProcIO(p *libcontainer.Process, tty, withStdin bool) (*procIO, error) {
	pio := &procIO{tty: tty}
	if tty {
		parent, child, err := newSockPair("console")
		if err != nil {
			return nil, err
		}
		pio.sock, p.ConsoleSocket = parent, child
		pio.child = append(pio.child, child)
		return pio, nil
	}
	if withStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		p.Stdin, pio.stdin = r, w
		pio.child = append(pio.child, r)
	}
	var err error
	if pio.stdout, p.Stdout, err = pio.pipe(); err != nil {
		pio.close()
		return nil, err
	}
	if pio.stderr, p.Stderr, err = pio.pipe(); err != nil {
		pio.close()
		return nil, err
	}
	return pio, nil
}

func (pio *procIO) pipe() (*os.File, io.Writer, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	pio.child = append(pio.child, w)
	return r, w, nil
}

// started closes the child's ends and, with a tty, takes the pty master.
func (pio *procIO) started() error {
	for _, f := range pio.child {
		f.Close()
	}
	pio.child = nil
	if !pio.tty {
		return nil
	}
	defer pio.sock.Close()
	master, err := recvFd(pio.sock)
	if err != nil {
		return err
	}
	pio.console, pio.stdout, pio.stdin = master, master, master
	return nil
}

// pump copies the process's output into out and errw until EOF (a pty
// reports EIO once every holder of its slave side is gone) and then
// closes done.
func (pio *procIO) pump(out, errw io.Writer) <-chan struct{} {
	var wg sync.WaitGroup
	copyOut := func(w io.Writer, r *os.File) {
		defer wg.Done()
		_, _ = io.Copy(w, r)
	}
	wg.Add(1)
	go copyOut(out, pio.stdout)
	if !pio.tty {
		wg.Add(1)
		go copyOut(errw, pio.stderr)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// feed copies a client's stdin into the process; closeAtEOF closes the
// process's stdin when the client half-closes (not possible for a pty).
func (pio *procIO) feed(src io.Reader, closeAtEOF func() bool) {
	if pio.stdin == nil {
		return
	}
	_, _ = io.Copy(pio.stdin, src)
	if closeAtEOF() && !pio.tty {
		pio.stdin.Close()
	}
}

// halfClosed reports, once reading conn hit EOF, whether the peer only
// shut down its writing side (stdin ended: docker attach with piped
// input) rather than closing the connection (the client detached or went
// away), which must leave the container's stdin open for the next attach.
func halfClosed(conn *net.UnixConn) func() bool {
	return func() bool {
		raw, err := conn.SyscallConn()
		if err != nil {
			return true
		}
		hup := false
		_ = raw.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
				hup = fds[0].Revents&unix.POLLHUP != 0
			}
		})
		return !hup
	}
}

// close releases every descriptor the shim still holds.
func (pio *procIO) close() {
	for _, f := range append(pio.child, pio.sock, pio.stdout, pio.stderr) {
		if f != nil {
			f.Close()
		}
	}
	if pio.stdin != nil && !pio.tty {
		pio.stdin.Close()
	}
}

// hub fans the container's output out to attached clients.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one attached client connection.
type subscriber struct {
	conn           net.Conn
	wmu            sync.Mutex
	stdout, stderr bool
	gone           chan struct{}
}

func (h *hub) add(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	h.subs[s] = struct{}{}
}

// closeAll sends the exit frame to every subscriber and ends them.
func (h *hub) closeAll(exit []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		_ = writeFrame(&s.wmu, s.conn, frameExit, exit)
		close(s.gone)
		delete(h.subs, s)
	}
}

// writer returns the hub's sink for one stream.
func (h *hub) writer(kind byte) io.Writer { return hubWriter{h: h, kind: kind} }

type hubWriter struct {
	h    *hub
	kind byte
}

func (w hubWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	for s := range w.h.subs {
		if (w.kind == frameStdout && !s.stdout) || (w.kind == frameStderr && !s.stderr) {
			continue
		}
		if err := writeFrame(&s.wmu, s.conn, w.kind, p); err != nil {
			close(s.gone)
			delete(w.h.subs, s)
		}
	}
	return len(p), nil
}
