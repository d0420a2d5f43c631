package stream

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// Streams is a client connection taken over for attach or exec: the
// client's stdin and the writers for the process's stdout and stderr.
//
// Stdout and Stderr may be used from different goroutines; their writes are
// serialized so frames never interleave. Stdin must be read by one
// goroutine at a time.
type Streams struct {
	// Stdin yields what the client sends. Closing it stops reading (pending
	// and later reads return io.EOF) but leaves the connection open for
	// output; use Close to end the connection.
	Stdin io.ReadCloser
	// Stdout and Stderr write the process's output to the client, framed
	// with stdcopy headers when the stream is multiplexed and raw otherwise.
	Stdout, Stderr io.Writer

	conn      net.Conn
	closeOnce sync.Once
	closeErr  error
}

// newStreams builds Streams over conn; in is where stdin is read from (conn
// itself, or buffered bytes followed by conn).
func newStreams(conn net.Conn, in io.Reader, multiplexed bool) *Streams {
	mu := &sync.Mutex{}
	s := &Streams{conn: conn, Stdin: &stdinReader{r: in, conn: conn}}
	if multiplexed {
		s.Stdout = NewFrameWriter(conn, stdcopy.Stdout, mu)
		s.Stderr = NewFrameWriter(conn, stdcopy.Stderr, mu)
		return s
	}
	raw := &lockedWriter{w: conn, mu: mu}
	s.Stdout, s.Stderr = raw, raw
	return s
}

// CloseWrite half-closes the connection: the client reads EOF after the
// output written so far, and can still send stdin. When the connection
// cannot be half-closed (a websocket, for instance) it is closed fully.
func (s *Streams) CloseWrite() error {
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return s.Close()
}

// Close ends the connection. It is safe to call more than once and from any
// goroutine; blocked reads and writes return errors.
func (s *Streams) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.conn.Close() })
	return s.closeErr
}

// stdinReader reads the client's input and can be stopped without closing
// the connection.
type stdinReader struct {
	r      io.Reader
	conn   net.Conn
	closed atomic.Bool
}

// Read implements io.Reader; after Close it reports io.EOF.
func (s *stdinReader) Read(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	if err != nil && s.closed.Load() {
		err = io.EOF
	}
	return n, err
}

// Close stops reading: a past read deadline wakes a blocked Read.
func (s *stdinReader) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.conn.SetReadDeadline(time.Unix(1, 0))
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// lockedWriter serializes writes to w with mu.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

// Write implements io.Writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// frameHeaderLen is the size of a stdcopy frame header: the stream type,
// three zero bytes and the big-endian payload length.
const frameHeaderLen = 8

// frameWriter writes each Write as one stdcopy frame.
type frameWriter struct {
	w   io.Writer
	typ stdcopy.StdType
	mu  *sync.Mutex
}

// NewFrameWriter returns a writer that frames every Write for stream typ in
// the multiplexed format stdcopy.StdCopy reads. Writers that share w must
// share mu (nil allocates a private one) so that frames never interleave.
// Write reports the payload bytes written, not counting the header.
func NewFrameWriter(w io.Writer, typ stdcopy.StdType, mu *sync.Mutex) io.Writer {
	if mu == nil {
		mu = &sync.Mutex{}
	}
	return &frameWriter{w: w, typ: typ, mu: mu}
}

// Write implements io.Writer. Header and payload go out in a single write.
func (f *frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if uint64(len(p)) > uint64(^uint32(0)) {
		return 0, errors.New("write frame: payload exceeds 4 GiB")
	}
	frame := make([]byte, frameHeaderLen+len(p))
	frame[0] = byte(f.typ)
	binary.BigEndian.PutUint32(frame[4:frameHeaderLen], uint32(len(p)))
	copy(frame[frameHeaderLen:], p)
	f.mu.Lock()
	n, err := f.w.Write(frame)
	f.mu.Unlock()
	n = max(n-frameHeaderLen, 0)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}
