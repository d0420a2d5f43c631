package logs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// errLineTooLong reports, once per line, that a line over MaxLineSize is
// being skipped.
var errLineTooLong = errors.New("log line too long")

// lineReader reads newline-terminated lines forward from a file that may
// still be growing. A fragment without a newline stays in pending until the
// rest arrives, so a half-written line is never returned as complete.
type lineReader struct {
	f       *os.File
	info    os.FileInfo // identity of f, compared against the live path
	br      *bufio.Reader
	off     int64  // offset in f of the next byte br will return
	pending []byte // fragment read so far of the current line
	discard bool   // skipping the rest of an over-long line
}

func newLineReader(f *os.File, start int64) (*lineReader, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat container log: %w", err)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek container log: %w", err)
	}
	return &lineReader{f: f, info: info, br: bufio.NewReaderSize(f, readBuffer), off: start}, nil
}

// next returns the next complete line including its newline; the slice is
// valid until the following call. It returns io.EOF when no complete line
// is available yet, keeping any fragment for later calls.
func (l *lineReader) next() ([]byte, error) {
	for {
		chunk, err := l.br.ReadSlice('\n')
		l.off += int64(len(chunk))
		if err == nil {
			return l.complete(chunk)
		}
		if !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if l.keep(chunk) {
			return nil, errLineTooLong
		}
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
	}
}

// complete finishes the current line with its last chunk; a line that was
// being discarded yields nothing and reading goes on.
func (l *lineReader) complete(chunk []byte) ([]byte, error) {
	if l.discard {
		l.discard = false
		return l.next()
	}
	if len(l.pending) == 0 {
		return chunk, nil
	}
	line := append(l.pending, chunk...)
	l.pending = line[:0]
	return line, nil
}

// keep buffers a fragment and reports whether the line just became too long.
func (l *lineReader) keep(chunk []byte) bool {
	if l.discard {
		return false
	}
	l.pending = append(l.pending, chunk...)
	if len(l.pending) <= MaxLineSize {
		return false
	}
	l.pending, l.discard = nil, true
	return true
}

// truncated reports whether the file shrank below what was already read,
// which is how the runtime rotates when it keeps a single file.
func (l *lineReader) truncated() bool {
	st, err := l.f.Stat()
	return err == nil && st.Size() < l.off
}

// rewind restarts at the beginning of a truncated file.
func (l *lineReader) rewind() error {
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("seek container log: %w", err)
	}
	l.br.Reset(l.f)
	l.off, l.pending, l.discard = 0, nil, false
	return nil
}
