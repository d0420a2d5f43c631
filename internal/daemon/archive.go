package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// pathError gives a lookup failure Docker's message and class.
func pathError(err error, p string, c *ctr.Container) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errdefs.Errorf(errdefs.NotFound, "Could not find the file %s in container %s", p, c.Name)
	}
	return err
}

// ContainerStatPath implements api.ArchiveBackend.
func (d *Daemon) ContainerStatPath(ctx context.Context, name, p string) (container.PathStat, error) {
	c, r, release, err := d.containerFS(ctx, name)
	if err != nil {
		return container.PathStat{}, err
	}
	defer release()
	st, err := r.stat(p)
	return st, pathError(err, p, c)
}

// ContainerArchivePath implements api.ArchiveBackend. The tar's top entry
// is named after the path's last element ("." for "dir/.").
func (d *Daemon) ContainerArchivePath(ctx context.Context, name, p string) (io.ReadCloser, container.PathStat, error) {
	c, r, release, err := d.containerFS(ctx, name)
	if err != nil {
		return nil, container.PathStat{}, err
	}
	st, err := r.stat(p)
	if err != nil {
		release()
		return nil, container.PathStat{}, pathError(err, p, c)
	}
	parent, base, err := r.resolve(p, followsTrailing(p))
	if err != nil {
		release()
		return nil, container.PathStat{}, pathError(err, p, c)
	}
	d.containerEvent(c, "archive-path", nil)
	return d.streamTar(ctx, func(tw *tarWriter) error {
		defer release()
		defer parent.Close()
		return tw.add(int(parent.Fd()), base, tarName(p))
	}), st, nil
}

// tarName names the top entry of an archive of p.
func tarName(p string) string {
	if strings.HasSuffix(p, "/.") || cleanPath(p) == "/" {
		return "."
	}
	return path.Base(cleanPath(p))
}

// streamTar runs fill in a goroutine writing into the returned stream.
// Closing the stream stops the writer.
func (d *Daemon) streamTar(ctx context.Context, fill func(*tarWriter) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tw := newTarWriter(ctx, pw)
		err := fill(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// ContainerExtractToDir implements api.ArchiveBackend.
func (d *Daemon) ContainerExtractToDir(ctx context.Context, name string, opt api.ExtractOptions) error {
	c, r, release, err := d.containerFS(ctx, name)
	if err != nil {
		return err
	}
	defer release()
	if err := r.checkExtractDir(opt.Path); err != nil {
		return pathError(err, opt.Path, c)
	}
	if err := r.checkWritable(opt.Path, c.HostConfig != nil && c.HostConfig.ReadonlyRootfs); err != nil {
		return pathError(err, opt.Path, c)
	}
	xo := extractOpt{noOverwriteDirNonDir: opt.NoOverwriteDirNonDir}
	if opt.CopyUIDGID {
		u, err := resolveUser(r.path, c.Config.User, nil)
		if err != nil {
			return err
		}
		xo.owner = &[2]int{u.Uid, u.Gid}
	}
	if err := r.extract(ctx, opt.Path, opt.Content, xo); err != nil {
		return err
	}
	d.containerEvent(c, "extract-to-dir", nil)
	return nil
}

// checkExtractDir requires p (symlinks followed) to be a directory.
func (r *rootFS) checkExtractDir(p string) error {
	parent, base, err := r.resolve(p, true)
	if err != nil {
		return err
	}
	defer parent.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return errdefs.InvalidParameter(errors.New("extraction point is not a directory"))
	}
	return nil
}

// ContainerExport implements api.ArchiveBackend.
func (d *Daemon) ContainerExport(ctx context.Context, name string) (io.ReadCloser, error) {
	c, r, release, err := d.containerFS(ctx, name)
	if err != nil {
		return nil, err
	}
	d.containerEvent(c, "export", nil)
	return d.streamTar(ctx, func(tw *tarWriter) error {
		defer release()
		return tw.add(int(r.dir.Fd()), ".", "")
	}), nil
}

// ContainerChanges implements api.ArchiveBackend.
func (d *Daemon) ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	list, err := d.images.Changes(ctx, c.LayerID)
	if err != nil {
		return nil, fmt.Errorf("list changes of container %s: %w", c.ID, err)
	}
	out := make([]container.FilesystemChange, len(list))
	for i, ch := range list {
		out[i] = container.FilesystemChange{Path: ch.Path, Kind: container.ChangeType(ch.Kind)}
	}
	return out, nil
}

// containerSizes are SizeRw (the read-write layer's files) and SizeRootFs
// (that plus the image) for inspect and list with size=1; a size that
// cannot be measured is logged and reported as 0.
func (d *Daemon) containerSizes(ctx context.Context, c *ctr.Container) (int64, int64) {
	rw, err := d.images.DiffSize(ctx, c.LayerID)
	logErr(ctx, err, "measure container layer")
	img, err := d.images.Get(ctx, c.ImageID)
	logErr(ctx, err, "measure container image")
	return rw, rw + img.Size
}
