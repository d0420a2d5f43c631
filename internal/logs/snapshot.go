package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

const (
	// snapshotRetries bounds how often openSnapshot starts over because a
	// rotation happened while it was opening the files.
	snapshotRetries = 10
	snapshotBackoff = time.Millisecond
)

// snapshot is the set of log files open at one moment, oldest first.
type snapshot struct {
	files []*os.File
	live  bool // the last file is the live one (it may not exist)
}

// rotatedName is the name of the n-th rotated file (1 is the newest).
func rotatedName(path string, n int) string {
	return fmt.Sprintf("%s.%d", path, n)
}

// openSnapshot opens the live file and every rotated file. The runtime may
// rotate meanwhile, which would make a file appear twice, out of place or
// not at all, so the names are checked again afterwards and the open is
// retried when any of them moved. If rotations keep racing the open, the
// live file is left out and the caller reaches it the way Follow does.
func openSnapshot(ctx context.Context, path string) (*snapshot, error) {
	for attempt := 1; ; attempt++ {
		s, err := openFiles(path)
		if err != nil {
			return nil, err
		}
		if s.stable(path) {
			return s, nil
		}
		if attempt == snapshotRetries {
			s.dropLive()
			return s, nil
		}
		s.close()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(snapshotBackoff):
		}
	}
}

// openFiles opens path.1, path.2, ... and then path. A file already opened
// under another name (shifted by a rotation) is skipped.
func openFiles(path string) (*snapshot, error) {
	s := &snapshot{}
	for n := 1; ; n++ {
		f, err := openIfExists(rotatedName(path, n))
		if err != nil {
			s.close()
			return nil, err
		}
		if f == nil {
			break
		}
		if s.has(f) {
			f.Close()
			continue
		}
		s.files = append([]*os.File{f}, s.files...)
	}
	live, err := openIfExists(path)
	if err != nil {
		s.close()
		return nil, err
	}
	if live != nil && !s.has(live) {
		s.files, s.live = append(s.files, live), true
	} else if live != nil {
		live.Close()
	}
	return s, nil
}

// has reports whether f is already in the snapshot.
func (s *snapshot) has(f *os.File) bool {
	st, err := f.Stat()
	for _, g := range s.files {
		if gst, gerr := g.Stat(); err == nil && gerr == nil && os.SameFile(st, gst) {
			return true
		}
	}
	return false
}

func (s *snapshot) dropLive() {
	if s.live {
		s.files[len(s.files)-1].Close()
		s.files, s.live = s.files[:len(s.files)-1], false
	}
}

// openIfExists opens name for reading; a missing file is (nil, nil).
func openIfExists(name string) (*os.File, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return f, nil
}

// stable reports whether every name still refers to the file opened for it.
func (s *snapshot) stable(path string) bool {
	rotated := s.files
	if s.live {
		rotated = s.files[:len(s.files)-1]
		if !sameFile(path, s.files[len(s.files)-1]) {
			return false
		}
	} else if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	for i, f := range rotated {
		if !sameFile(rotatedName(path, len(rotated)-i), f) {
			return false
		}
	}
	_, err := os.Stat(rotatedName(path, len(rotated)+1))
	return errors.Is(err, fs.ErrNotExist)
}

func sameFile(name string, f *os.File) bool {
	a, err := os.Stat(name)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}

func (s *snapshot) close() {
	for _, f := range s.files {
		if f != nil {
			f.Close()
		}
	}
}

// tailStarts returns, for each file (oldest first), the offset where
// reading starts so that the last tail lines are read, or -1 to skip the
// file. tail < 0 reads everything.
func tailStarts(files []*os.File, tail int) ([]int64, error) {
	starts := make([]int64, len(files))
	if tail < 0 {
		return starts, nil
	}
	for i := range starts {
		starts[i] = -1
	}
	for i := len(files) - 1; i >= 0; i-- {
		st, err := files[i].Stat()
		if err != nil {
			return nil, fmt.Errorf("stat container log: %w", err)
		}
		start, found, err := tailOffset(files[i], st.Size(), tail, tailBlock)
		if err != nil {
			return nil, err
		}
		starts[i], tail = start, tail-found
		if tail == 0 {
			break
		}
	}
	return starts, nil
}

// tailOffset scans r backwards from size in blocks and returns the offset
// where the last n newline-terminated lines begin and how many it found
// (fewer than n when it reached the start, which is then the offset). A
// trailing fragment without a newline is not counted as a line.
func tailOffset(r io.ReaderAt, size int64, n, block int) (int64, int, error) {
	buf := make([]byte, block)
	seen := 0
	for end := size; end > 0; {
		start := max(0, end-int64(block))
		b := buf[:end-start]
		got, err := r.ReadAt(b, start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, fmt.Errorf("read container log: %w", err)
		}
		b = b[:got] // short only if the file shrank meanwhile
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				continue
			}
			if seen == n {
				return start + int64(i) + 1, n, nil
			}
			seen++
		}
		end = start
	}
	return 0, seen, nil
}
