package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Docker's restart backoff: the delay starts at 100ms and doubles with
// every restart, up to a minute; a run of 10s or more resets it.
const (
	restartMinDelay = 100 * time.Millisecond
	restartMaxDelay = time.Minute
	restartResetRun = 10 * time.Second
)

// shouldRestart applies c's restart policy to an exit with code. A manual
// stop (docker stop, restart or rm -f) is never restarted.
func shouldRestart(c *ctr.Container, code int) bool {
	if c.ManualStop || c.HostConfig == nil {
		return false
	}
	p := c.HostConfig.RestartPolicy
	switch p.Name {
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		return true
	case container.RestartPolicyOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || c.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// markRestarting is called under the store's update of an exit: when the
// policy restarts c it is left "restarting" (so waiters for not-running keep
// waiting) and the delay of the next start is returned.
func (d *Daemon) markRestarting(c *ctr.Container, ranFor time.Duration) (time.Duration, bool) {
	if !shouldRestart(c, c.State.ExitCode) {
		d.restarts.Delete(c.ID)
		return 0, false
	}
	delay := restartMinDelay
	if prev, ok := d.restarts.Load(c.ID); ok && ranFor < restartResetRun {
		delay = min(prev.(time.Duration)*2, restartMaxDelay)
	}
	d.restarts.Store(c.ID, delay)
	c.State.Status = container.StateRestarting
	return delay, true
}

// scheduleRestart starts the container again after delay unless it was
// stopped, started or removed meanwhile.
func (d *Daemon) scheduleRestart(id string, delay time.Duration) {
	ctx := d.rootCtx
	go func() {
		if !sleep(ctx, delay) {
			return
		}
		unlock := d.lockContainer(id)
		defer unlock()
		cancelled := false
		c, err := d.containers.Update(id, func(c *ctr.Container) error {
			if c.State.Status != container.StateRestarting {
				return errdefs.Errorf(errdefs.Conflict, "restart of %s cancelled", id)
			}
			if c.ManualStop { // stopped while it waited: waiters see it exited
				c.State.Status, cancelled = container.StateExited, true
				return nil
			}
			c.RestartCount++
			return nil
		})
		if err != nil || cancelled {
			return
		}
		logErr(ctx, d.start(ctx, c), "restart container "+id)
	}()
}

// cancelRestart turns a container waiting for its restart into a stopped
// one, as docker stop does; it reports whether there was one. It waits for
// a restart under way to finish (the container is then running).
func (d *Daemon) cancelRestart(id string) bool {
	unlock := d.lockContainer(id)
	defer unlock()
	_, err := d.containers.Update(id, func(c *ctr.Container) error {
		if c.State.Status != container.StateRestarting {
			return errdefs.Errorf(errdefs.Conflict, "not restarting")
		}
		c.ManualStop, c.State.Status = true, container.StateExited
		return nil
	})
	return err == nil
}

// autoStart starts, when the daemon starts, the stopped containers whose
// policy is always, or unless-stopped without a manual stop, as Docker does.
func (d *Daemon) autoStart(ctx context.Context) {
	for _, c := range d.containers.List() {
		p := c.HostConfig.RestartPolicy.Name
		if c.State.Running() || c.State.Status == container.StateRestarting ||
			!(p == container.RestartPolicyAlways || (p == container.RestartPolicyUnlessStopped && !c.ManualStop)) {
			continue
		}
		go func(id string) {
			unlock := d.lockContainer(id)
			defer unlock()
			c, err := d.containers.Get(id)
			if err != nil || c.State.Running() || c.State.Status == container.StateRestarting {
				return
			}
			log.G(ctx).WithField("container", id).Info("starting container: restart policy " + string(p))
			logErr(ctx, d.start(ctx, c), "start container at daemon start")
		}(c.ID)
	}
}

// ContainerUpdate implements api.ContainerBackend. The restart policy takes
// effect at the next exit. Resources are applied at once to a running
// container's cgroup where a controller can enforce them, and recorded for
// the next start; the warnings name those that cannot be enforced.
func (d *Daemon) ContainerUpdate(ctx context.Context, name string, cfg container.UpdateConfig) (container.UpdateResponse, error) {
	cur, unlock, err := d.lockedContainer(name)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	defer unlock()
	hc, err := updatedHostConfig(cur.HostConfig, cfg)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if err := d.applyUpdate(ctx, cur, cfg.Resources); err != nil {
		return container.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", cur.ID, err) //nolint:staticcheck // Docker's message
	}
	c, err := d.containers.Update(cur.ID, func(c *ctr.Container) error {
		c.HostConfig = hc
		return nil
	})
	if err != nil {
		return container.UpdateResponse{}, err
	}
	d.containerEvent(c, "update", nil)
	return container.UpdateResponse{Warnings: d.resourceWarnings(&container.HostConfig{Resources: cfg.Resources})}, nil
}

// updatedHostConfig is hc with the update's restart policy and limits.
func updatedHostConfig(cur *container.HostConfig, cfg container.UpdateConfig) (*container.HostConfig, error) {
	hc := *cur
	if cfg.RestartPolicy.Name != "" {
		if hc.AutoRemove && cfg.RestartPolicy.Name != container.RestartPolicyDisabled {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = cfg.RestartPolicy
	}
	mergeResources(&hc.Resources, cfg.Resources)
	if err := validateHostConfig(&hc); err != nil {
		return nil, err
	}
	return &hc, nil
}

// mergeResources copies the limits set in upd (non-zero values) into r,
// as Docker's update does.
func mergeResources(r *container.Resources, upd container.Resources) {
	setInt := func(dst *int64, v int64) {
		if v != 0 {
			*dst = v
		}
	}
	setInt(&r.Memory, upd.Memory)
	setInt(&r.MemoryReservation, upd.MemoryReservation)
	setInt(&r.MemorySwap, upd.MemorySwap)
	setInt(&r.CPUShares, upd.CPUShares)
	setInt(&r.NanoCPUs, upd.NanoCPUs)
	setInt(&r.CPUPeriod, upd.CPUPeriod)
	setInt(&r.CPUQuota, upd.CPUQuota)
	setInt(&r.CPURealtimePeriod, upd.CPURealtimePeriod)
	setInt(&r.CPURealtimeRuntime, upd.CPURealtimeRuntime)
	if upd.CpusetCpus != "" {
		r.CpusetCpus = upd.CpusetCpus
	}
	if upd.CpusetMems != "" {
		r.CpusetMems = upd.CpusetMems
	}
	if upd.BlkioWeight != 0 {
		r.BlkioWeight = upd.BlkioWeight
	}
	if upd.PidsLimit != nil {
		r.PidsLimit = upd.PidsLimit
	}
}
