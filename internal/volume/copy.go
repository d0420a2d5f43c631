package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Populate fills an empty volume directory dst from src, a directory in a
// container's root filesystem, as Docker does on a volume's first use:
// contents with their ownership, modes and times, and the ownership and
// mode of src itself on dst. Symlinks are copied, never followed; device
// nodes, fifos and sockets are skipped. A missing src or a non-empty dst
// leaves dst as it is.
//
// Both sides are opened as os.Root, so that nothing - not even a container
// that swaps a directory of a shared volume for a symlink while the copy
// runs - makes it read or write outside src and dst.
func Populate(ctx context.Context, src, dst string) error {
	from, err := os.OpenRoot(src)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	defer from.Close()
	to, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	defer to.Close()
	if !rootEmpty(to) {
		return nil
	}
	err = fs.WalkDir(from.FS(), ".", func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return copyEntry(from, to, name)
	})
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	return nil
}

func rootEmpty(r *os.Root) bool {
	f, err := r.Open(".")
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// copyEntry copies one entry; "." (the root) only gets its metadata.
func copyEntry(from, to *os.Root, name string) error {
	st, err := from.Lstat(name)
	if err != nil {
		return err
	}
	switch m := st.Mode(); {
	case name == ".":
	case m.IsDir():
		err = to.Mkdir(name, 0o700)
	case m&os.ModeSymlink != 0:
		var target string
		if target, err = from.Readlink(name); err == nil {
			err = to.Symlink(target, name)
		}
	case m.IsRegular():
		err = copyFile(from, to, name)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	return copyMeta(to, name, st)
}

func copyFile(from, to *os.Root, name string) error {
	in, err := from.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := to.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta applies st's owner, mode and modification time to name.
func copyMeta(to *os.Root, name string, st os.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	// EINVAL: the owner is not mapped in this user namespace (a single-id
	// mapping); the file keeps the daemon's owner, as umoci's rootless mode.
	if err := to.Lchown(name, int(sys.Uid), int(sys.Gid)); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	if err := to.Chmod(name, st.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	return to.Chtimes(name, st.ModTime(), st.ModTime())
}
