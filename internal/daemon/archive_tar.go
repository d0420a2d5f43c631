package daemon

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// tarWriter writes a tree of the container's file system. It descends
// only through directories it opened itself with O_NOFOLLOW, so a swapped
// symlink makes the walk fail instead of leaving the root.
type tarWriter struct {
	ctx   context.Context
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, ino) of multiply-linked files -> first name
}

func newTarWriter(ctx context.Context, w io.Writer) *tarWriter {
	return &tarWriter{ctx: ctx, tw: tar.NewWriter(w), links: map[[2]uint64]string{}}
}

// Close writes the end-of-archive marker.
func (t *tarWriter) Close() error { return t.tw.Close() }

// add writes the entry base of the directory dirfd as name, recursing into
// a directory. An empty name writes a directory's content only (export).
func (t *tarWriter) add(dirfd int, base, name string) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return t.addDir(dirfd, base, name, &st)
	case unix.S_IFREG:
		return t.addFile(dirfd, base, name, &st)
	case unix.S_IFSOCK:
		return nil // sockets are not archived, as in Docker
	}
	hdr := header(name, &st)
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := readlinkAt(dirfd, base)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	}
	return t.tw.WriteHeader(hdr)
}

func (t *tarWriter) addDir(dirfd int, base, name string, st *unix.Stat_t) error {
	d, err := openDirAt(dirfd, base)
	if err != nil {
		return err
	}
	defer d.Close()
	prefix := ""
	if name != "" {
		if err := t.tw.WriteHeader(header(name+"/", st)); err != nil {
			return err
		}
		prefix = name + "/"
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", name, err)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := t.add(int(d.Fd()), n, prefix+n); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarWriter) addFile(dirfd int, base, name string, st *unix.Stat_t) error {
	hdr := header(name, st)
	key := [2]uint64{st.Dev, st.Ino}
	if st.Nlink > 1 {
		if first, ok := t.links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return t.tw.WriteHeader(hdr)
		}
		t.links[key] = name
	}
	fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Ino != st.Ino || now.Dev != st.Dev {
		return fmt.Errorf("archive %s: file changed during the copy", name)
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyN(t.tw, f, hdr.Size)
	if err == io.EOF { // shrank while copying: pad to the announced size
		_, err = io.CopyN(t.tw, zeroReader{}, hdr.Size-n)
	}
	return err
}

// header builds a tar header from a stat result (ids as the daemon sees
// them, PAX format for long names and large ids).
func header(name string, st *unix.Stat_t) *tar.Header {
	hdr := &tar.Header{
		Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()).Truncate(time.Second), Format: tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	}
	return hdr
}

func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(buf[:n]), nil
}

type zeroReader struct{}

// Read implements io.Reader with zero bytes.
func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
