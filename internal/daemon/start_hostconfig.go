package daemon

import (
	"context"

	"github.com/moby/moby/api/types/container"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// ContainerSetHostConfig implements api.ContainerBackend. Clients of API
// versions before 1.24 may send the host configuration with start; as
// dockerd then did, it replaces the one from create (mounts and networks
// are resolved again) unless the container is running, where start
// answers 304 anyway.
func (d *Daemon) ContainerSetHostConfig(ctx context.Context, name string, hc *container.HostConfig) error {
	c, unlock, err := d.lockedContainer(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.State.Running() {
		return nil
	}
	if err := validateHostConfig(hc); err != nil {
		return err
	}
	specs, err := d.mountSpecs(c.Config, hc)
	if err != nil {
		return err
	}
	nets, err := d.initialNetworks(hc.NetworkMode, nil)
	if err != nil {
		return err
	}
	next := *c
	next.HostConfig, next.Network = hc, nets
	d.releaseVolumes(ctx, c, false)
	if err := d.createMounts(ctx, &next, specs); err != nil {
		d.refVolumes(ctx, c)
		return err
	}
	_, err = d.containers.Update(c.ID, func(r *ctr.Container) error {
		r.HostConfig, r.Network, r.MountPoints = hc, nets, next.MountPoints
		return nil
	})
	return err
}
