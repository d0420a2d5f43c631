package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/log/logtest"
)

// testCtx sends the package's log output to t.Log.
func testCtx(t *testing.T) context.Context {
	return logtest.WithT(t.Context(), t)
}

// testLog writes the runtime's json-file format with its rotation scheme
// (path -> path.1 -> path.2 ..., oldest highest; one file: truncate).
type testLog struct {
	t        testing.TB
	path     string
	f        *os.File
	size     int64
	maxSize  int64
	maxFiles int
}

func newTestLog(t testing.TB, maxSize int64, maxFiles int) *testLog {
	t.Helper()
	path := filepath.Join(t.TempDir(), "container.log")
	l := &testLog{t: t, path: path, maxSize: maxSize, maxFiles: maxFiles}
	l.open(os.O_APPEND)
	t.Cleanup(func() { l.f.Close() })
	return l
}

func (l *testLog) open(flag int) {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|flag, 0o640)
	if err != nil {
		l.t.Fatal(err)
	}
	l.f, l.size = f, 0
}

// encode returns one encoded entry with its newline.
func encode(t testing.TB, stream, text string, ts time.Time) []byte {
	b, err := json.Marshal(map[string]string{"log": text, "stream": stream, "time": ts.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func (l *testLog) writeAt(stream, text string, ts time.Time) {
	b := encode(l.t, stream, text, ts)
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(b)) > l.maxSize {
		l.rotate()
	}
	l.raw(b)
}

func (l *testLog) write(stream, text string) { l.writeAt(stream, text, time.Now()) }

// lines writes n stdout lines "prefix i\n" numbered from first.
func (l *testLog) lines(prefix string, first, n int) {
	for i := first; i < first+n; i++ {
		l.write("stdout", fmt.Sprintf("%s %d\n", prefix, i))
	}
}

// raw appends bytes as they are, for partial and corrupt lines.
func (l *testLog) raw(b []byte) {
	n, err := l.f.Write(b)
	if err != nil {
		l.t.Fatal(err)
	}
	l.size += int64(n)
}

func (l *testLog) rotate() {
	l.f.Close()
	for i := l.maxFiles - 1; i >= 1; i-- {
		from := l.path
		if i > 1 {
			from = rotatedName(l.path, i-1)
		}
		if err := os.Rename(from, rotatedName(l.path, i)); err != nil && !os.IsNotExist(err) {
			l.t.Fatal(err)
		}
	}
	l.open(os.O_TRUNC)
}

// numbered returns "prefix i\n" for i in [first, first+n).
func numbered(prefix string, first, n int) []string {
	var out []string
	for i := first; i < first+n; i++ {
		out = append(out, fmt.Sprintf("%s %d\n", prefix, i))
	}
	return out
}

const testTimeout = 10 * time.Second

// collect reads the stream to its end.
func collect(t *testing.T, msgs <-chan Message, errs <-chan error) ([]Message, error) {
	t.Helper()
	var out []Message
	deadline := time.After(testTimeout)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return out, <-errs
			}
			out = append(out, m)
		case <-deadline:
			t.Fatalf("stream did not end; got %d messages", len(out))
		}
	}
}

// recvN receives exactly n messages.
func recvN(t *testing.T, msgs <-chan Message, n int) []string {
	t.Helper()
	var out []string
	deadline := time.After(testTimeout)
	for len(out) < n {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("stream closed after %d of %d messages: %q", len(out), n, out)
			}
			out = append(out, string(m.Line))
		case <-deadline:
			t.Fatalf("got %d of %d messages: %q", len(out), n, out)
		}
	}
	return out
}

// expectQuiet asserts that nothing arrives for d.
func expectQuiet(t *testing.T, msgs <-chan Message, d time.Duration) {
	t.Helper()
	select {
	case m, ok := <-msgs:
		t.Fatalf("unexpected message %q (open %v)", m.Line, ok)
	case <-time.After(d):
	}
}

func texts(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, string(m.Line))
	}
	return out
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %q, want %q (got %d lines, want %d; got around it: %q)",
				i, got[i], want[i], len(got), len(want), got[max(0, i-3):min(len(got), i+3)])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d; got tail %q, want tail %q",
			len(got), len(want), got[max(0, len(got)-3):], want[max(0, len(want)-3):])
	}
}

// waitModes runs follow tests with fsnotify and with the poll fallback.
var waitModes = []struct {
	name string
	cfg  waitConfig
}{
	{"fsnotify", waitConfig{}},
	{"poll", waitConfig{noNotify: true, poll: 20 * time.Millisecond}},
}

var both = ReadOpt{Tail: -1, Stdout: true, Stderr: true}
