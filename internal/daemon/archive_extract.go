package daemon

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/containerd/log"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// extractOpt are the options of PUT /containers/{id}/archive.
type extractOpt struct {
	// noOverwriteDirNonDir refuses to replace a directory with a
	// non-directory and the reverse.
	noOverwriteDirNonDir bool
	// owner, when set, owns every extracted entry (copyUIDGID); otherwise
	// the archive's ids are kept.
	owner *[2]int
}

// extract unpacks the tar stream rd into the directory dst of the root.
// Each entry's parent is created and opened inside the root; the entry is
// then created relative to that directory without following symlinks.
func (r *rootFS) extract(ctx context.Context, dst string, rd io.Reader, opt extractOpt) error {
	dst = cleanPath(dst)
	plain, err := decompressed(rd)
	if err != nil {
		return err
	}
	defer plain.Close()
	tr := tar.NewReader(plain)
	var dirs []*tar.Header
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("read archive: %w", err))
		}
		if err := r.extractEntry(ctx, dst, hdr, tr, opt); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, hdr)
		}
	}
	r.restoreDirTimes(dst, dirs)
	return nil
}

// restoreDirTimes sets directory times again once their content is
// written (creating entries changed them), deepest last-written first.
func (r *rootFS) restoreDirTimes(dst string, dirs []*tar.Header) {
	for i := len(dirs) - 1; i >= 0; i-- {
		name, err := entryName(dirs[i].Name)
		if err != nil {
			continue
		}
		parent, base, err := r.lookup(path.Join(dst, name))
		if err != nil {
			continue
		}
		setTimes(int(parent.Fd()), base, dirs[i])
		parent.Close()
	}
}

// setTimes applies the entry's times without following a symlink.
func setTimes(pfd int, base string, hdr *tar.Header) {
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.AccessTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if hdr.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	_ = unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// entryName validates an archive name: relative, no "..".
func entryName(name string) (string, error) {
	clean := path.Clean("/" + name)
	if strings.Contains(name, "..") {
		for _, el := range strings.Split(name, "/") {
			if el == ".." {
				return "", errdefs.InvalidParameter(fmt.Errorf("invalid archive entry %q: path escapes the destination", name))
			}
		}
	}
	return strings.TrimPrefix(clean, "/"), nil
}

func (r *rootFS) extractEntry(ctx context.Context, dst string, hdr *tar.Header, rd io.Reader, opt extractOpt) error {
	name, err := entryName(hdr.Name)
	if err != nil || name == "" {
		return err // "" is the destination itself ("./")
	}
	dir, base := path.Split(name)
	parent, err := pathrs.MkdirAllHandle(r.dir, path.Join(dst, dir), 0o755)
	if err != nil {
		return fmt.Errorf("create directory for %s: %w", name, err)
	}
	defer parent.Close()
	pfd := int(parent.Fd())
	if err := prepareTarget(pfd, base, name, hdr, opt); err != nil {
		return err
	}
	if err := r.create(pfd, base, dst, hdr, rd); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	if hdr.Typeflag == tar.TypeLink {
		return nil // the linked inode already has its owner, mode and times
	}
	uid, gid := hdr.Uid, hdr.Gid
	if opt.owner != nil {
		uid, gid = opt.owner[0], opt.owner[1]
	}
	if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		// Ids outside the user namespace's mapping cannot be set.
		log.G(ctx).WithError(err).WithField("path", name).Debug("keep owner of extracted file")
	} else if err := restoreSpecialBits(pfd, base, hdr); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	setTimes(pfd, base, hdr)
	return nil
}

// prepareTarget removes what is in the way of the entry, keeping an
// existing directory for a directory entry.
func prepareTarget(pfd int, base, name string, hdr *tar.Header, opt extractOpt) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil // nothing there
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	wantDir := hdr.Typeflag == tar.TypeDir
	if opt.noOverwriteDirNonDir && isDir && !wantDir {
		return errdefs.InvalidParameter(fmt.Errorf("cannot overwrite directory %q with non-directory %q", "/"+name, name))
	}
	if opt.noOverwriteDirNonDir && !isDir && wantDir {
		return errdefs.InvalidParameter(fmt.Errorf("cannot overwrite non-directory %q with directory %q", "/"+name, name))
	}
	if isDir && wantDir {
		return nil
	}
	return removeAllAt(pfd, base)
}

// create makes the entry base in pfd; dst is the extraction directory
// (hard link targets are relative to it).
func (r *rootFS) create(pfd int, base, dst string, hdr *tar.Header, rd io.Reader) error {
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		d, err := openDirAt(pfd, base)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Chmod(tarMode(mode))
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives use TypeRegA
		return writeFileAt(pfd, base, mode, rd)
	case tar.TypeSymlink:
		return unix.Symlinkat(hdr.Linkname, pfd, base)
	case tar.TypeLink:
		return r.linkAt(pfd, base, dst, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return mknodAt(pfd, base, hdr, mode)
	}
	return nil // other types (PAX globals, sparse) carry no file
}

func writeFileAt(pfd int, base string, mode uint32, rd io.Reader) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	if _, err := io.Copy(f, rd); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(tarMode(mode)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// linkAt makes a hard link to target (an archive path below dst); the
// target is looked up inside the root.
func (r *rootFS) linkAt(pfd int, base, dst, target string) error {
	rel, err := entryName(target)
	if err != nil {
		return err
	}
	tdir, tbase, err := r.lookup(path.Join(dst, rel))
	if err != nil {
		return err
	}
	defer tdir.Close()
	return unix.Linkat(int(tdir.Fd()), tbase, pfd, base, 0)
}

func mknodAt(pfd int, base string, hdr *tar.Header, mode uint32) error {
	kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	if err := unix.Mknodat(pfd, base, kind|mode, dev); err != nil {
		if errors.Is(err, unix.EPERM) {
			return &fs.PathError{Op: "mknod", Path: base, Err: errors.New("device nodes cannot be created in a user namespace")}
		}
		return err
	}
	return nil
}

// tarMode converts permission bits (with setuid/setgid/sticky) to os.FileMode.
func tarMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
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

// restoreSpecialBits sets the mode again after a chown, which clears
// setuid and setgid. The file is reopened without following symlinks.
func restoreSpecialBits(pfd int, base string, hdr *tar.Header) error {
	mode := uint32(hdr.Mode & 0o7777)
	if mode&(unix.S_ISUID|unix.S_ISGID) == 0 || (hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir) {
		return nil
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fchmod(fd, mode)
}

// decompressed accepts a plain, gzip or zstd tar stream, as dockerd does
// for the compressions it reads without external programs.
func decompressed(rd io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(rd)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("read gzip archive: %w", err))
		}
		return zr, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("read zstd archive: %w", err))
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}
