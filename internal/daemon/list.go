package daemon

import (
	"context"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// ContainerList implements api.ContainerBackend: newest first, running
// ones only unless All, then filters and limit.
func (d *Daemon) ContainerList(ctx context.Context, opt api.ContainerListOptions) ([]container.Summary, error) {
	match, err := d.containerFilter(opt.Filters)
	if err != nil {
		return nil, err
	}
	all := opt.All || len(opt.Filters["status"]) > 0 || len(opt.Filters["exited"]) > 0 || opt.Limit > 0
	out := []container.Summary{}
	for _, c := range d.containers.List() {
		if opt.Limit > 0 && len(out) == opt.Limit {
			break
		}
		if (all || c.State.Running()) && match(c) {
			sum := d.summary(c)
			if opt.Size {
				sum.SizeRw, sum.SizeRootFs = d.containerSizes(ctx, c)
			}
			out = append(out, sum)
		}
	}
	return out, nil
}

// containerFilter compiles the filters of GET /containers/json.
func (d *Daemon) containerFilter(f filters.Args) (func(*ctr.Container) bool, error) {
	for _, s := range f["status"] {
		if container.ValidateContainerState(container.ContainerState(s)) != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter 'status=%s'", s)
		}
	}
	var exited []int
	for _, e := range f["exited"] {
		n, err := strconv.Atoi(e)
		if err != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter 'exited=%s'", e)
		}
		exited = append(exited, n)
	}
	before, since, err := d.containerBounds(f)
	if err != nil {
		return nil, err
	}
	return func(c *ctr.Container) bool {
		return anyOrEmpty(f["id"], func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
			anyOrEmpty(f["name"], func(v string) bool { return strings.Contains("/"+c.Name, v) }) &&
			anyOrEmpty(f["status"], func(v string) bool { return v == string(c.State.Status) }) &&
			anyOrEmpty(f["ancestor"], func(v string) bool { return d.isAncestor(c, v) }) &&
			anyOrEmpty(f["health"], func(v string) bool { return v == healthStatus(c) }) &&
			anyOrEmpty(f["volume"], func(v string) bool { return usesVolume(c, v) }) &&
			anyOrEmpty(f["network"], func(v string) bool { return d.onNetwork(c, v) }) &&
			(len(exited) == 0 || (c.State.Status == container.StateExited && containsInt(exited, c.State.ExitCode))) &&
			f.MatchLabels("label", c.Config.Labels) &&
			(before == nil || c.Created.Before(before.Created)) &&
			(since == nil || c.Created.After(since.Created))
	}, nil
}

func (d *Daemon) containerBounds(f filters.Args) (before, since *ctr.Container, err error) {
	if v := f["before"]; len(v) > 0 {
		if before, err = d.containers.Get(v[0]); err != nil {
			return nil, nil, err
		}
	}
	if v := f["since"]; len(v) > 0 {
		if since, err = d.containers.Get(v[0]); err != nil {
			return nil, nil, err
		}
	}
	return before, since, nil
}

// isAncestor reports whether c runs the image ref (by name or ID).
func (d *Daemon) isAncestor(c *ctr.Container, ref string) bool {
	if c.Image == ref || strings.TrimPrefix(c.ImageID, "sha256:") == strings.TrimPrefix(ref, "sha256:") {
		return true
	}
	img, err := d.images.Get(context.WithoutCancel(d.rootCtx), ref)
	return err == nil && img.ID == c.ImageID
}

func healthStatus(c *ctr.Container) string {
	if c.State.Health == nil {
		return string(container.NoHealthcheck)
	}
	return string(c.State.Health.Status)
}

func anyOrEmpty(vals []string, fn func(string) bool) bool {
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		if fn(v) {
			return true
		}
	}
	return false
}

func containsInt(s []int, n int) bool {
	for _, v := range s {
		if v == n {
			return true
		}
	}
	return false
}
