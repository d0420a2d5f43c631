package daemon

import (
	"errors"

	"github.com/containerd/log"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// watchOOM reports OOM kills in the container's memory cgroup while it
// runs, as Docker does: State.OOMKilled is set and an oom event emitted at
// once, even when the container survives (a child was killed). The exit
// path reports kills this watch missed (see updateExit).
func (d *Daemon) watchOOM(id string) {
	if !d.cgroups.Has("memory") {
		return
	}
	ch, err := d.runtime.NotifyOOM(d.rootCtx, id)
	if err != nil {
		if !errors.Is(err, runtime.ErrNoCgroup) {
			log.G(d.rootCtx).WithError(err).WithField("container", id).Debug("no oom notifications")
		}
		return
	}
	go func() {
		for range ch { // closed when the cgroup is removed
			d.recordOOM(id)
		}
	}()
}

func (d *Daemon) recordOOM(id string) {
	c, err := d.containers.Update(id, func(c *ctr.Container) error {
		if !c.State.Running() {
			return errdefs.Errorf(errdefs.Conflict, "container %s is not running", id)
		}
		c.State.OOMKilled = true
		return nil
	})
	if err == nil {
		d.containerEvent(c, "oom", nil)
	}
}
