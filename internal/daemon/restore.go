package daemon

import (
	"context"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// restore reconciles the container records with what the shims report
// after a daemon restart: running containers get their monitor back,
// containers that ended while the daemon was away get their exit status.
func (d *Daemon) restore(ctx context.Context) {
	for _, c := range d.containers.List() {
		if !c.State.Running() && c.State.Status != container.StateRestarting {
			continue
		}
		st, err := d.runtime.State(ctx, c.ID)
		switch {
		case err == nil && st.Running:
			log.G(ctx).WithField("container", c.ID).Info("re-adopted running container")
			d.readoptVolumes(ctx, c)
			d.readoptNetwork(ctx, c)
			go d.monitor(c.ID)
		case err == nil && st.Exit != nil:
			d.recordExit(ctx, c.ID, *st.Exit)
		default:
			d.recordExit(ctx, c.ID, runtime.ExitStatus{ExitCode: 255, FinishedAt: time.Now().UTC(),
				Error: "container state lost while the daemon was down"})
		}
	}
	d.dropStaleNetNS(ctx)
	d.autoStart(ctx)
}
