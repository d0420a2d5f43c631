package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Populate fills an empty volume directory dst from src, a directory in a
// container's root filesystem, as Docker does on a volume's first use:
// contents with their ownership, modes and times, and the ownership and
// mode of src itself on dst. Symlinks are copied, never followed. A
// missing src or a non-empty dst leaves dst as it is.
func Populate(ctx context.Context, src, dst string) error {
	st, err := os.Lstat(src)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !st.IsDir()) {
		return nil
	}
	if err != nil || !IsEmpty(dst) {
		return err
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		return copyEntry(path, filepath.Join(dst, rel))
	})
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	return copyMeta(st, dst)
}

func copyEntry(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch m := st.Mode(); {
	case m.IsDir():
		err = os.Mkdir(dst, 0o700)
	case m&os.ModeSymlink != 0:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	case m.IsRegular():
		err = copyFile(src, dst)
	default:
		return nil // devices, fifos and sockets are not copied
	}
	if err != nil {
		return err
	}
	return copyMeta(st, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta applies st's owner, mode and modification time to dst.
func copyMeta(st os.FileInfo, dst string) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Lchown(dst, int(sys.Uid), int(sys.Gid)); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	if err := os.Chmod(dst, st.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}
