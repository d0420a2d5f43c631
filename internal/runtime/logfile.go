package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// maxLogLine is where a line without a newline is cut into a partial entry,
// as Docker's json-file driver does at 16 KiB.
const maxLogLine = 16 * 1024

// jsonLog writes Docker's json-file format: one JSON object per line with
// the log text, the stream name and an RFC 3339 nano timestamp. It is safe
// for concurrent use by the stdout and stderr pumps.
type jsonLog struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64
	maxFiles int
}

// logEntry is one line of the json-file format.
type logEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

func openJSONLog(path string, maxSize int64, maxFiles int) (*jsonLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &jsonLog{path: path, f: f, size: st.Size(), maxSize: maxSize, maxFiles: max(maxFiles, 1)}, nil
}

// write appends one entry; errors are swallowed after the first report
// because a full disk must not block the container.
func (l *jsonLog) write(stream string, line []byte) error {
	b, err := json.Marshal(logEntry{Log: string(line), Stream: stream, Time: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(b)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	return err
}

// rotate renames path.(n-1) -> path.n ... path -> path.1 and starts afresh;
// with maxFiles 1 the live file is truncated.
func (l *jsonLog) rotate() error {
	l.f.Close()
	for i := l.maxFiles - 1; i >= 1; i-- {
		from := l.path
		if i > 1 {
			from = fmt.Sprintf("%s.%d", l.path, i-1)
		}
		_ = os.Rename(from, fmt.Sprintf("%s.%d", l.path, i))
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate container log: %w", err)
	}
	l.f, l.size = f, 0
	return nil
}

func (l *jsonLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// lineWriter splits a stream into log entries at newlines.
type lineWriter struct {
	log    *jsonLog
	stream string
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < maxLogLine {
			return len(p), nil
		}
		if i < 0 || i >= maxLogLine {
			i = maxLogLine - 1
		}
		_ = w.log.write(w.stream, w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
}

// flush writes a trailing partial line.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		_ = w.log.write(w.stream, w.buf)
		w.buf = nil
	}
}
