package logs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// lookupRetries bounds how often advance starts a lookup over because a
// rotation moved the files under it; after that it waits for the next
// wake-up instead of spinning.
const lookupRetries = 10

// Rotation renames path.(n-1) to path.n from the highest number down, then
// path to path.1, then creates path. A file therefore only ever moves to a
// higher number (or is deleted when renamed over at the top), the files
// keep their order by age, and while a rotation is under way at most one
// number is missing in the middle. A directory listing is never atomic, so
// the lookup below relies only on those facts: to find the file after the
// anchor it opens the name one below the anchor's and then checks that the
// anchor did not move meanwhile. If it did not, the file opened was the
// anchor's direct successor at that moment.

// consumed is the newest file already read to its end.
type consumed struct {
	f    *os.File // held open: its inode cannot be reused, deletion shows
	info os.FileInfo
	pos  int // lowest rotation number the file can have now
}

// retire finishes cur once it stopped being the live file (the runtime
// closed it before renaming it, so a trailing fragment is final) and makes
// it the anchor.
func (r *reader) retire(ctx context.Context) error {
	if err := r.drain(ctx, r.cur, true); err != nil {
		return err
	}
	r.closeAnchor()
	r.anchor = &consumed{f: r.cur.f, info: r.cur.info, pos: max(r.curPos, 1)}
	r.cur = nil
	return nil
}

// advance opens the file after the anchor as cur. cur stays nil when that
// file does not exist yet (the runtime is between renaming the live file
// and creating the next one) or when rotations kept moving the files during
// the lookup; the next wake-up tries again.
func (r *reader) advance() error {
	for range lookupRetries {
		f, pos, ok, err := r.successor()
		switch {
		case err != nil:
			return err
		case !ok:
			continue
		case f == nil:
			return nil
		}
		lr, err := newLineReader(f, 0)
		if err != nil {
			f.Close()
			return err
		}
		r.cur, r.curPos = lr, pos
		return nil
	}
	return nil
}

// successor opens the file that comes right after the anchor and returns
// it with its rotation number (0: the live file). f is nil when it does not
// exist yet; ok is false when a rotation interfered and the caller should
// look again.
func (r *reader) successor() (f *os.File, pos int, ok bool, err error) {
	if r.anchor == nil {
		return r.oldest()
	}
	p, err := r.locate()
	if err != nil {
		return nil, 0, false, err
	}
	if p == 0 {
		if unlinked(r.anchor.f) {
			return r.oldest() // rotated out of existence: start at what is left
		}
		return nil, 0, false, nil // it moved past the scan
	}
	r.anchor.pos = p
	name := r.nameOf(p - 1)
	if f, err = r.open(name); err != nil {
		return nil, 0, false, err
	}
	if !sameName(rotatedName(r.path, p), r.anchor.info) {
		closeFile(f)
		return nil, 0, false, nil
	}
	return f, p - 1, true, nil
}

// locate returns the number n with path.n the anchor, scanning up from the
// lowest number it can have; 0 when the scan reached the end of the rotated
// files (two numbers in a row missing) without finding it.
func (r *reader) locate() (int, error) {
	missing := 0
	for n := r.anchor.pos; missing < 2; n++ {
		st, err := os.Stat(rotatedName(r.path, n))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing++
		case err != nil:
			return 0, fmt.Errorf("stat container log: %w", err)
		case os.SameFile(st, r.anchor.info):
			return n, nil
		default:
			missing = 0
		}
	}
	return 0, nil
}

// oldest opens the oldest file there is: the highest-numbered rotated file,
// or the live file when there is none. Reading starts there when no file
// was read yet, or when the anchor was deleted by rotation before the files
// after it were read (their lines are lost, as with Docker). Every file
// that exists is newer than a deleted anchor, so nothing is read twice.
func (r *reader) oldest() (*os.File, int, bool, error) {
	top, err := r.topRotated()
	if err != nil {
		return nil, 0, false, err
	}
	f, err := r.open(r.nameOf(top))
	if err != nil {
		return nil, 0, false, err
	}
	// A rotation meanwhile shifted an older file above the one opened.
	if again, err := r.topRotated(); err != nil || again != top {
		closeFile(f)
		return nil, 0, false, err
	}
	return f, top, true, nil
}

// topRotated returns the highest number n for which path.n exists, 0 if
// none does; a single missing number is a rotation under way.
func (r *reader) topRotated() (int, error) {
	top, missing := 0, 0
	for n := 1; missing < 2; n++ {
		_, err := os.Stat(rotatedName(r.path, n))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing++
		case err != nil:
			return 0, fmt.Errorf("stat container log: %w", err)
		default:
			top, missing = n, 0
		}
	}
	return top, nil
}

// nameOf is the name of rotation number n, 0 being the live file.
func (r *reader) nameOf(n int) string {
	if n == 0 {
		return r.path
	}
	return rotatedName(r.path, n)
}

// open opens a file the lookup may read next; nil if it does not exist.
func (r *reader) open(name string) (*os.File, error) {
	f, err := openIfExists(name)
	if err == nil && r.cfg.onOpen != nil {
		r.cfg.onOpen(name)
	}
	return f, err
}

// sameName reports whether name currently refers to the file info describes.
func sameName(name string, info os.FileInfo) bool {
	st, err := os.Stat(name)
	return err == nil && os.SameFile(st, info)
}

// unlinked reports whether f was deleted (renamed over by a rotation).
func unlinked(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Nlink == 0
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
