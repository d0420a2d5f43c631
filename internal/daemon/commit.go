package daemon

import (
	"context"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
)

// ContainerCommit implements api.ArchiveBackend: the read-write layer
// becomes a new layer on top of the container's image. With Pause a
// running container is paused for the copy, as in Docker.
func (d *Daemon) ContainerCommit(ctx context.Context, opt api.CommitOptions) (string, error) {
	c, err := d.containers.Get(opt.Container)
	if err != nil {
		return "", err
	}
	switch c.State.Status {
	case container.StateRemoving:
		return "", errdefs.Errorf(errdefs.Conflict, "You cannot commit container %s which is being removed", c.ID)
	case container.StateDead:
		return "", errdefs.Errorf(errdefs.Conflict, "You cannot commit container %s which is dead", c.ID)
	case container.StateRunning:
		if opt.Pause && d.ContainerPause(ctx, c.ID) == nil {
			defer func() { logErr(ctx, d.ContainerUnpause(context.WithoutCancel(ctx), c.ID), "unpause after commit") }()
		}
	}
	co := oci.CommitOpt{
		LayerID: c.LayerID, ImageID: c.ImageID, Ref: opt.Ref, Changes: opt.Changes,
		Base: imageConfigOf(c.Config), Comment: opt.Comment, Author: opt.Author,
	}
	if c.Config != nil {
		co.CreatedBy = strings.Join(c.Config.Cmd, " ")
	}
	if opt.Config != nil {
		co.Config = imageConfigOf(opt.Config)
	}
	img, err := d.images.Commit(ctx, co)
	if err != nil {
		return "", err
	}
	d.containerEvent(c, "commit", map[string]string{"comment": opt.Comment, "imageID": img.ID, "imageRef": opt.Ref})
	return img.ID, nil
}

// imageConfigOf keeps what an image config can hold of a container config.
func imageConfigOf(c *container.Config) dockerspec.DockerOCIImageConfig {
	if c == nil {
		return dockerspec.DockerOCIImageConfig{}
	}
	out := dockerspec.DockerOCIImageConfig{
		ImageConfig: ocispec.ImageConfig{
			User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
			Labels: c.Labels, StopSignal: c.StopSignal, ArgsEscaped: c.ArgsEscaped, //nolint:staticcheck // Docker keeps it
		},
		DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{Healthcheck: c.Healthcheck, OnBuild: c.OnBuild, Shell: c.Shell},
	}
	for p := range c.ExposedPorts {
		if out.ExposedPorts == nil {
			out.ExposedPorts = map[string]struct{}{}
		}
		out.ExposedPorts[p.String()] = struct{}{}
	}
	if len(c.Volumes) > 0 {
		out.Volumes = c.Volumes
	}
	return out
}
