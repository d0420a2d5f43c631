package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/log"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// readoptNetwork takes back the network of a container that outlived the
// previous daemon. When this daemon joined the previous one's namespaces,
// the sandbox and the container's namespace are still in place: its
// addresses are reserved again and its ports bound again on the host
// ports it had. Otherwise the network is lost (warnLostNetwork).
func (d *Daemon) readoptNetwork(ctx context.Context, c *ctr.Container) {
	if c.Network == nil || len(c.Network.Networks) == 0 || !ownNetNS(c.HostConfig.NetworkMode) {
		return
	}
	if d.net.sb == nil || !d.net.sb.Reused() || !d.net.sb.HasNetNS(c.ID) {
		d.warnLostNetwork(ctx, c)
		return
	}
	if err := d.reserveEndpoints(ctx, c); err != nil {
		log.G(ctx).WithError(err).WithField("container", c.ID).Warn("re-adopted container's addresses could not be reserved")
	}
	if err := d.republishPorts(ctx, c); err != nil {
		log.G(ctx).WithError(err).WithField("container", c.ID).Warn("re-adopted container's published ports are lost; restart it to publish them again")
	}
}

// reserveEndpoints marks the container's addresses used and finds its
// interfaces (for disconnect).
func (d *Daemon) reserveEndpoints(ctx context.Context, c *ctr.Container) error {
	var errs []error
	for name, ep := range c.Network.Networks {
		nr, err := d.net.lookup(name)
		if err != nil || ep == nil || !ep.IPAddress.IsValid() || nr.pool == nil {
			errs = append(errs, fmt.Errorf("network %s: endpoint without address or network", name))
			continue
		}
		if _, err := nr.pool.Allocate(ep.IPAddress); err != nil {
			errs = append(errs, err)
		}
		if nr.pool6 != nil && ep.GlobalIPv6Address.IsValid() {
			if _, err := nr.pool6.Allocate(ep.GlobalIPv6Address); err != nil {
				errs = append(errs, err)
			}
		}
		ifName, err := d.net.sb.InterfaceWith(ctx, c.ID, ep.IPAddress)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.net.ifaces.Store(c.ID+"/"+nr.ID, ifName)
	}
	return errors.Join(errs...)
}

// republishPorts binds the host ports recorded for the container.
func (d *Daemon) republishPorts(ctx context.Context, c *ctr.Container) error {
	maps, err := mappingsOf(c.Network.Ports)
	if err != nil || len(maps) == 0 {
		return err
	}
	pub, err := d.net.sb.Publish(ctx, firstAddr(c.Network.Networks), maps)
	if err != nil {
		return err
	}
	d.net.ports.Store(c.ID, pub)
	return nil
}

// dropStaleNetNS removes the network namespaces of a reused sandbox that no
// running container owns (a start the previous daemon did not finish),
// with their veth pairs.
func (d *Daemon) dropStaleNetNS(ctx context.Context) {
	if d.net == nil || d.net.sb == nil || !d.net.sb.Reused() {
		return
	}
	for _, id := range d.net.sb.NetNSIDs() {
		if c, err := d.containers.Get(id); err == nil && c.State.Running() {
			continue
		}
		log.G(ctx).WithField("container", id).Info("removing a stale container network namespace")
		logErr(ctx, d.net.sb.DeleteNetNS(ctx, id), "remove stale network namespace")
	}
}
