package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// rootFS is a container's mounted file system held open as a directory.
// Every lookup resolves inside it (openat2 RESOLVE_IN_ROOT semantics via
// pathrs-lite), and every later step works relative to an opened
// directory with O_NOFOLLOW, so a symlink in the container, even one
// swapped in during a copy, can never lead outside the root.
type rootFS struct {
	path string
	dir  *os.File // O_PATH
	// ns, when set, is the private mount namespace holding the volumes
	// and binds attached to the root (see openView); it lives until Close.
	ns *os.File
}

func openRootFS(p string) (*rootFS, error) {
	f, err := os.OpenFile(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open container root: %w", err)
	}
	return &rootFS{path: p, dir: f}, nil
}

// Close releases the root directory and the mount namespace of a view
// (which unmounts its volumes and binds).
func (r *rootFS) Close() error {
	err := r.dir.Close()
	if r.ns != nil {
		err = errors.Join(err, r.ns.Close())
	}
	return err
}

// cleanPath makes a container path absolute and clean.
func cleanPath(p string) string { return path.Clean("/" + p) }

// followsTrailing reports whether a path asks for its last symlink to be
// followed ("dir/" or "dir/.").
func followsTrailing(p string) bool {
	return strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")
}

// lookup opens the parent directory of p inside the root (following
// symlinks there, in the root) and returns it with p's last element.
// The root itself is (root, ".").
func (r *rootFS) lookup(p string) (*os.File, string, error) {
	p = cleanPath(p)
	if p == "/" {
		f, err := pathrs.OpenatInRoot(r.dir, "/")
		return f, ".", err
	}
	dir, base := path.Split(p)
	f, err := pathrs.OpenatInRoot(r.dir, dir)
	if err != nil {
		return nil, "", err
	}
	return f, base, nil
}

// resolve returns the parent directory and name of p with a trailing
// symlink resolved when follow is set.
func (r *rootFS) resolve(p string, follow bool) (*os.File, string, error) {
	parent, base, err := r.lookup(p)
	if err != nil || !follow {
		return parent, base, err
	}
	var st unix.Stat_t
	if unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return parent, base, nil
	}
	parent.Close()
	real, err := r.realPath(p)
	if err != nil {
		return nil, "", err
	}
	return r.lookup(real)
}

// realPath resolves every symlink of p inside the root, through the
// root's descriptor (so symlinks inside volumes and binds count, and a
// missing element ends the resolution as in securejoin). It is used to
// report paths (linkTarget) and to pick a name; access always goes
// through lookup.
func (r *rootFS) realPath(p string) (string, error) {
	full, err := securejoin.SecureJoinVFS("/", cleanPath(p), rootVFS{r})
	if err != nil {
		return "", err
	}
	return cleanPath(full), nil
}

// rootVFS answers securejoin's Lstat and Readlink for container paths
// through the root's descriptor; each path's parent is opened inside the
// root (it holds no symlinks: securejoin resolved them already).
type rootVFS struct{ r *rootFS }

func (v rootVFS) at(name string, fn func(pfd int, base string) error) error {
	parent, base, err := v.r.lookup(name)
	if err != nil {
		return err
	}
	defer parent.Close()
	return fn(int(parent.Fd()), base)
}

// Lstat implements securejoin.VFS.
func (v rootVFS) Lstat(name string) (os.FileInfo, error) {
	var st unix.Stat_t
	err := v.at(name, func(pfd int, base string) error {
		return unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return statInfo{name: path.Base(name), mode: fileMode(st.Mode)}, nil
}

// Readlink implements securejoin.VFS.
func (v rootVFS) Readlink(name string) (string, error) {
	var target string
	err := v.at(name, func(pfd int, base string) (err error) {
		target, err = readlinkAt(pfd, base)
		return err
	})
	return target, err
}

// statInfo is the little of os.FileInfo that securejoin reads (the mode).
type statInfo struct {
	name string
	mode os.FileMode
}

// Name implements os.FileInfo.
func (s statInfo) Name() string { return s.name }

// Size implements os.FileInfo (not measured).
func (s statInfo) Size() int64 { return 0 }

// Mode implements os.FileInfo.
func (s statInfo) Mode() os.FileMode { return s.mode }

// ModTime implements os.FileInfo (not read).
func (s statInfo) ModTime() time.Time { return time.Time{} }

// IsDir implements os.FileInfo.
func (s statInfo) IsDir() bool { return s.mode.IsDir() }

// Sys implements os.FileInfo.
func (s statInfo) Sys() any { return nil }

// stat describes p as HEAD /containers/{id}/archive does: the last element
// is not followed unless p ends in "/" or "/.".
func (r *rootFS) stat(p string) (container.PathStat, error) {
	parent, base, err := r.resolve(p, followsTrailing(p))
	if err != nil {
		return container.PathStat{}, err
	}
	defer parent.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return container.PathStat{}, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	ps := container.PathStat{Name: path.Base(cleanPath(p)), Size: st.Size, Mode: fileMode(st.Mode),
		Mtime: time.Unix(st.Mtim.Unix())}
	if ps.Mode&os.ModeSymlink != 0 {
		if ps.LinkTarget, err = r.realPath(p); err != nil {
			return container.PathStat{}, err
		}
	}
	return ps, nil
}

// fileMode converts a stat mode to Go's os.FileMode (the form the stat
// header carries).
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// openDirAt opens the directory name in dirfd without following a symlink.
func openDirAt(dirfd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// removeAllAt removes name in dirfd and, for a directory, its content,
// never following symlinks.
func removeAllAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return &fs.PathError{Op: "unlink", Path: name, Err: err}
	}
	d, err := openDirAt(dirfd, name)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	for _, n := range names {
		if err == nil {
			err = removeAllAt(int(d.Fd()), n)
		}
	}
	d.Close()
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil {
		return &fs.PathError{Op: "rmdir", Path: name, Err: err}
	}
	return nil
}
