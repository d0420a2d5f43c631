package daemon

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/osthread"
)

// viewMount is one mount of a container's file system view: a host
// directory or file (a volume's data, a bind source, a network file)
// attached at a container path.
type viewMount struct {
	// Destination is the container path; symlinks in it resolve inside
	// the container's root.
	Destination string
	// Source is the host path to attach.
	Source string
	// RW is false for read-only mounts (made read-only recursively).
	RW bool
	// NonRecursive attaches the source without its submounts.
	NonRecursive bool
}

// openView opens the container root at rootfs with mounts attached, as
// cp and export see it. Without mounts it is the plain root. Otherwise the
// mounts are made in a private mount namespace, on a thread that is
// discarded afterwards; the namespace lives as long as the returned root
// (it holds a handle on it), and since a path walk from a descriptor
// follows the mounts of the descriptor's own mount tree, any goroutine may
// use the root.
func openView(rootfs string, mounts []viewMount) (*rootFS, error) {
	if len(mounts) == 0 {
		return openRootFS(rootfs)
	}
	var r *rootFS
	var err error
	osthread.Discard(func() { r, err = buildView(rootfs, mounts) })
	return r, err
}

// buildView runs on a locked thread: unshare the mount namespace, keep
// it from propagating anything back, open the root there and attach the
// mounts, parents before children.
func buildView(rootfs string, mounts []viewMount) (*rootFS, error) {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return nil, fmt.Errorf("unshare mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make mounts private: %w", err)
	}
	ns, err := os.Open("/proc/thread-self/ns/mnt")
	if err != nil {
		return nil, fmt.Errorf("open mount namespace: %w", err)
	}
	r, err := openRootFS(rootfs)
	if err != nil {
		ns.Close()
		return nil, err
	}
	r.ns = ns
	for _, m := range sortMounts(mounts) {
		if err := r.attach(m); err != nil {
			r.Close()
			return nil, fmt.Errorf("mount %s in the container view: %w", m.Destination, err)
		}
	}
	return r, nil
}

// sortMounts orders mounts so that a mount's parent directory is mounted
// before it (fewer path elements first).
func sortMounts(mounts []viewMount) []viewMount {
	out := slices.Clone(mounts)
	slices.SortStableFunc(out, func(a, b viewMount) int {
		return strings.Count(cleanPath(a.Destination), "/") - strings.Count(cleanPath(b.Destination), "/")
	})
	return out
}

// attach clones the source's mount tree and moves it onto the
// destination, which is opened (or created) inside the root, so neither
// a symlink nor a swap can put the mount outside it.
func (r *rootFS) attach(m viewMount) error {
	tree, isDir, err := cloneSource(m)
	if err != nil {
		return err
	}
	defer unix.Close(tree)
	target, err := r.mountTarget(m.Destination, isDir)
	if err != nil {
		return err
	}
	defer target.Close()
	return unix.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
}

// cloneSource returns a detached copy of the source's mount (with its
// submounts unless NonRecursive; read-only throughout unless RW) and
// whether it is a directory.
func cloneSource(m viewMount) (int, bool, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if !m.NonRecursive {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, m.Source, flags)
	if err != nil {
		return -1, false, fmt.Errorf("clone %s: %w", m.Source, err)
	}
	if !m.RW {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr)
	}
	var st unix.Stat_t
	if err == nil {
		err = unix.Fstat(tree, &st)
	}
	if err != nil {
		unix.Close(tree)
		return -1, false, fmt.Errorf("prepare mount of %s: %w", m.Source, err)
	}
	return tree, st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// mountTarget opens the destination inside the root (symlinks resolved
// there), creating a missing one as a directory or an empty file, as the
// runtime does at start.
func (r *rootFS) mountTarget(dst string, dir bool) (*os.File, error) {
	f, err := pathrs.OpenatInRoot(r.dir, dst)
	if !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	if dir {
		return pathrs.MkdirAllHandle(r.dir, dst, 0o755)
	}
	parent, err := pathrs.MkdirAllHandle(r.dir, path.Dir(cleanPath(dst)), 0o755)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	base := path.Base(cleanPath(dst))
	fd, err := unix.Openat(int(parent.Fd()), base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", dst, err)
	}
	unix.Close(fd)
	return pathrs.OpenatInRoot(r.dir, dst)
}

// mountID is the id of the mount f is on.
func mountID(f *os.File) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, fmt.Errorf("statx: %w", err)
	}
	return stx.Mnt_id, nil
}

// checkWritable refuses to extract into p (symlinks followed) when it is
// on a read-only mount, or on the container's own file system when that
// is read-only (--read-only), with Docker's messages.
func (r *rootFS) checkWritable(p string, readonlyRootfs bool) error {
	f, err := pathrs.OpenatInRoot(r.dir, p)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := mountID(f)
	if err != nil {
		return err
	}
	rootID, err := mountID(r.dir)
	if err != nil {
		return err
	}
	if id == rootID {
		if readonlyRootfs {
			return errdefs.InvalidParameter(errors.New("container rootfs is marked read-only"))
		}
		return nil
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return fmt.Errorf("statfs %s: %w", p, err)
	}
	if fs.Flags&unix.ST_RDONLY != 0 {
		return errdefs.InvalidParameter(errors.New("mounted volume is marked read-only"))
	}
	return nil
}
