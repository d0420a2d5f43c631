package builder

import (
	"archive/tar"
	"context"
	"path"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// fromImage adds sources from an earlier stage or an image (COPY
// --from): each path is read from a container created (not started) from
// that image. A directory's contents go below dest; a file goes to dest,
// or into it when dest ends with "/". Entries become root-owned, as in
// COPY from the context.
func (b *build) fromImage(ctx context.Context, ct *copyTar, cs *copySpec) error {
	imageID, err := b.sourceImage(ctx, cs.from)
	if err != nil {
		return err
	}
	nop := &container.Config{Entrypoint: []string{"/bin/sh", "-c", "#(nop) "}, Healthcheck: noHealthcheck()}
	id, err := b.be.ContainerCreate(ctx, imageID, nop)
	if err != nil {
		return err
	}
	b.containers = append(b.containers, id)
	defer func() { _ = b.removeContainer(context.WithoutCancel(ctx), id, false) }()
	if len(cs.srcs) > 1 && !strings.HasSuffix(cs.dest, "/") {
		return errdefs.Errorf(errdefs.InvalidParameter, "When using %s with more than one source file, the destination must be a directory and end with a /", cs.cmd)
	}
	for _, src := range cs.srcs {
		file, err := b.copyOut(ctx, ct, id, path.Clean("/"+src), cs.dest)
		if err != nil {
			return err
		}
		if file && len(cs.srcs) == 1 && !strings.HasSuffix(cs.dest, "/") {
			cs.single = path.Base(path.Clean("/" + src))
		}
	}
	return nil
}

// sourceImage resolves --from: a stage name or index, else an image.
func (b *build) sourceImage(ctx context.Context, from string) (string, error) {
	if i, ok := b.names[strings.ToLower(from)]; ok {
		return b.stages[i].ID, nil
	}
	if i, err := strconv.Atoi(from); err == nil {
		if i < 0 || i >= len(b.stages) {
			return "", errdefs.Errorf(errdefs.InvalidParameter, "invalid from flag value %s: refers to current build stage", from)
		}
		return b.stages[i].ID, nil
	}
	img, err := b.baseImage(ctx, from)
	return img.ID, err
}

// copyOut adds the container's src below dest; file reports that src
// is not a directory.
func (b *build) copyOut(ctx context.Context, ct *copyTar, id, src, dest string) (file bool, err error) {
	rc, err := b.be.ContainerArchive(ctx, id, src)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	top := path.Base(src)
	dirDest := strings.TrimSuffix(dest, "/")
	fileDest := dest
	if strings.HasSuffix(dest, "/") {
		fileDest = dest + top
	}
	err = ct.addEntries(tar.NewReader(rc), true, func(name string, dir bool) string {
		switch {
		case name == top && dir:
			return "" // the directory itself: only its contents are copied
		case name == top:
			file = true
			return fileDest
		case strings.HasPrefix(name, top+"/"):
			return path.Join(dirDest, strings.TrimPrefix(name, top+"/"))
		}
		return ""
	})
	return file, err
}
