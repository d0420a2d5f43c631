package daemon

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/builder"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
)

// scratchComment marks the empty image FROM scratch builds start from.
const scratchComment = "dockerd-lite: empty base for FROM scratch"

// buildBackend gives the builder the daemon's operations for one build.
type buildBackend struct {
	d *Daemon
	// network is the build containers' network mode (networkmode=).
	network container.NetworkMode
}

var _ builder.Backend = (*buildBackend)(nil)

// ImageGet implements builder.Backend.
func (b *buildBackend) ImageGet(ctx context.Context, name string) (builder.Image, error) {
	img, err := b.d.images.Get(ctx, name)
	if err != nil {
		return builder.Image{}, err
	}
	return buildImage(img), nil
}

// ImagePull implements builder.Backend.
func (b *buildBackend) ImagePull(ctx context.Context, name string, auths map[string]registry.AuthConfig, out builder.Output) (builder.Image, error) {
	err := b.d.ImagePull(ctx, api.ImagePullOptions{Ref: name, Auth: authFor(name, auths)}, api.ProgressFunc(out))
	if err != nil {
		return builder.Image{}, err
	}
	return b.ImageGet(ctx, name)
}

// ScratchImage implements builder.Backend: an untagged image with one
// empty layer (the store has no layerless images), made once and found
// again by its history comment.
func (b *buildBackend) ScratchImage(ctx context.Context) (builder.Image, error) {
	imgs, err := b.d.images.List(ctx)
	if err != nil {
		return builder.Image{}, err
	}
	for _, img := range imgs {
		h := img.Config.History
		if len(h) == 1 && h[0].Comment == scratchComment && len(img.Layers) == 1 {
			return buildImage(img), nil
		}
	}
	var empty bytes.Buffer
	if err := tar.NewWriter(&empty).Close(); err != nil {
		return builder.Image{}, err
	}
	img, err := b.d.images.Import(ctx, &empty, oci.ImportOpt{Message: scratchComment})
	if err != nil {
		return builder.Image{}, err
	}
	return buildImage(img), nil
}

// CacheLookup implements builder.Backend: Docker's classic cache, an
// image with the same parent, history command and config.
func (b *buildBackend) CacheLookup(ctx context.Context, parentID, createdBy string, cfg *container.Config) (string, error) {
	imgs, err := b.d.images.List(ctx)
	if err != nil {
		return "", err
	}
	want := imageConfigOf(cfg)
	for _, img := range imgs {
		h := img.Config.History
		if img.Parent != parentID || len(h) == 0 || h[len(h)-1].CreatedBy != createdBy {
			continue
		}
		if sameJSON(img.Config.Config, want) {
			return img.ID, nil
		}
	}
	return "", nil
}

// sameJSON compares two values by their JSON form (nil and empty alike).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// ContainerCreate implements builder.Backend.
func (b *buildBackend) ContainerCreate(ctx context.Context, imageID string, cfg *container.Config) (string, error) {
	c := *cfg
	c.Image = imageID
	res, err := b.d.ContainerCreate(ctx, api.ContainerCreateOptions{
		Config: &c, HostConfig: &container.HostConfig{NetworkMode: b.network},
	})
	return res.ID, err
}

// ContainerRun implements builder.Backend: the output is followed from
// the container's log until it stops. A cancelled build kills it.
func (b *buildBackend) ContainerRun(ctx context.Context, id string, out io.Writer) (int, error) {
	wait, err := b.d.ContainerWait(ctx, id, "next-exit")
	if err != nil {
		return 0, err
	}
	if err := b.d.ContainerStart(ctx, id); err != nil {
		return 0, err
	}
	msgs, _, err := b.d.ContainerLogs(ctx, id, api.LogsOptions{Stdout: true, Stderr: true, Follow: true, Tail: -1})
	if err != nil {
		return 0, err
	}
	for m := range msgs {
		if m.Err == nil {
			_, _ = out.Write(m.Line)
		}
	}
	select {
	case res := <-wait:
		return res.StatusCode, nil
	case <-ctx.Done():
		logErr(ctx, b.d.ContainerKill(context.WithoutCancel(ctx), id, "KILL"), "kill build container")
		return 0, ctx.Err()
	}
}

// ContainerCopy implements builder.Backend with the safe extractor of
// PUT /containers/{id}/archive.
func (b *buildBackend) ContainerCopy(ctx context.Context, id string, content io.Reader, chown string) error {
	_, r, release, err := b.d.containerFS(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	var xo extractOpt
	if chown != "" {
		u, err := resolveUser(r.path, chown, nil)
		if err != nil {
			return err
		}
		xo.owner = &[2]int{u.Uid, u.Gid}
	}
	return r.extract(ctx, "/", content, xo)
}

// ContainerArchive implements builder.Backend.
func (b *buildBackend) ContainerArchive(ctx context.Context, id, path string) (io.ReadCloser, error) {
	rc, _, err := b.d.ContainerArchivePath(ctx, id, path)
	return rc, err
}

// ContainerIsDir implements builder.Backend ("p/." resolves symlinks to
// directories and fails on anything else).
func (b *buildBackend) ContainerIsDir(ctx context.Context, id, p string) (bool, error) {
	st, err := b.d.ContainerStatPath(ctx, id, strings.TrimSuffix(p, "/")+"/.")
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Mode.IsDir(), nil
}

// ContainerMkdir implements builder.Backend; the directory is created
// inside the container root (symlinks resolved in it).
func (b *buildBackend) ContainerMkdir(ctx context.Context, id, path string) error {
	_, r, release, err := b.d.containerFS(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	f, err := pathrs.MkdirAllHandle(r.dir, path, 0o755)
	if err != nil {
		return err
	}
	return f.Close()
}

// ContainerCommit implements builder.Backend.
func (b *buildBackend) ContainerCommit(ctx context.Context, opt builder.CommitOptions) (string, error) {
	c, err := b.d.containers.Get(opt.Container)
	if err != nil {
		return "", err
	}
	cfg := imageConfigOf(opt.Config)
	img, err := b.d.images.Commit(ctx, oci.CommitOpt{
		LayerID: c.LayerID, ImageID: c.ImageID, Config: cfg, Base: cfg,
		CreatedBy: opt.CreatedBy, Author: opt.Author,
	})
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

// ContainerRemove implements builder.Backend.
func (b *buildBackend) ContainerRemove(ctx context.Context, id string) error {
	return b.d.ContainerRemove(ctx, id, api.RemoveOptions{Force: true, RemoveVolumes: true})
}

// ImageTag implements builder.Backend.
func (b *buildBackend) ImageTag(ctx context.Context, imageID, ref string) (string, error) {
	r, err := oci.ParseRef(ref)
	if err != nil {
		return "", err
	}
	return r.Familiar(), b.d.ImageTag(ctx, imageID, r.Familiar(), "")
}
