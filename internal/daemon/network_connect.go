package daemon

import (
	"context"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// NetworkConnect implements api.NetworkBackend. A running container gets
// its interface at once (without a default route), a stopped one at start.
func (d *Daemon) NetworkConnect(ctx context.Context, name, ref string, cfg *network.EndpointSettings) error {
	r, c, err := d.networkAndContainer(name, ref)
	if err != nil {
		return err
	}
	unlock := d.lockContainer(c.ID)
	defer unlock()
	if c, err = d.containers.Get(c.ID); err != nil {
		return err
	}
	if !ownNetNS(c.HostConfig.NetworkMode) || r.pool == nil {
		return errdefs.Errorf(errdefs.Forbidden, "container sharing network namespace with another container or host cannot be connected to any other network")
	}
	if c.Network != nil && c.Network.Networks[r.Name] != nil {
		return errdefs.Errorf(errdefs.Forbidden, "endpoint with name %s already exists in network %s", c.Name, r.Name)
	}
	ep := endpointConfig(cfg)
	ep.NetworkID = r.ID
	if err := validateMAC(ep.MacAddress); err != nil {
		return err
	}
	if c.State.Running() {
		if ep, err = d.attachEndpoint(context.WithoutCancel(ctx), c, r, cfg, d.nextIfName(c), false); err != nil {
			return err
		}
	}
	_, err = d.containers.Update(c.ID, func(c *ctr.Container) error {
		if c.Network == nil {
			c.Network = &container.NetworkSettings{}
		}
		if c.Network.Networks == nil {
			c.Network.Networks = map[string]*network.EndpointSettings{}
		}
		c.Network.Networks[r.Name] = ep
		return nil
	})
	if err != nil {
		return err
	}
	d.networkEvent(r, "connect", map[string]string{"container": c.ID})
	return nil
}

// nextIfName is the first ethN the running container does not use.
func (d *Daemon) nextIfName(c *ctr.Container) string {
	used := map[string]bool{}
	for _, r := range d.net.list() {
		if v, ok := d.net.ifaces.Load(c.ID + "/" + r.ID); ok {
			used[v.(string)] = true
		}
	}
	for i := 0; ; i++ {
		if n := "eth" + strconv.Itoa(i); !used[n] {
			return n
		}
	}
}

// NetworkDisconnect implements api.NetworkBackend.
func (d *Daemon) NetworkDisconnect(ctx context.Context, name, ref string, force bool) error {
	r, c, err := d.networkAndContainer(name, ref)
	if err != nil {
		return err
	}
	unlock := d.lockContainer(c.ID)
	defer unlock()
	if c, err = d.containers.Get(c.ID); err != nil {
		return err
	}
	if c.Network == nil || c.Network.Networks[r.Name] == nil {
		return errdefs.Errorf(errdefs.Forbidden, "container %s is not connected to network %s", c.ID, r.Name)
	}
	if c.State.Running() {
		if v, ok := d.net.ifaces.Load(c.ID + "/" + r.ID); ok {
			if err := d.net.sb.RemoveInterface(ctx, c.ID, v.(string)); err != nil {
				return err
			}
		}
		d.releaseAddr(c.ID, r.Name, c.Network.Networks[r.Name])
	}
	_, err = d.containers.Update(c.ID, func(c *ctr.Container) error {
		if c.Network != nil {
			delete(c.Network.Networks, r.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.networkEvent(r, "disconnect", map[string]string{"container": c.ID})
	return nil
}

func (d *Daemon) networkAndContainer(name, ref string) (*netRecord, *ctr.Container, error) {
	if d.net == nil {
		return nil, nil, errdefs.Errorf(errdefs.NotFound, "network %s not found", name)
	}
	r, err := d.net.lookup(name)
	if err != nil {
		return nil, nil, err
	}
	c, err := d.containers.Get(ref)
	return r, c, err
}

// networkUsers lists the containers configured for r, running or not.
func (d *Daemon) networkUsers(r *netRecord) []*ctr.Container {
	var out []*ctr.Container
	for _, c := range d.containers.List() {
		if c.Network != nil && c.Network.Networks[r.Name] != nil {
			out = append(out, c)
		}
	}
	return out
}

// NetworkRemove implements api.NetworkBackend.
func (d *Daemon) NetworkRemove(ctx context.Context, name string) error {
	if d.net == nil {
		return errdefs.Errorf(errdefs.NotFound, "network %s not found", name)
	}
	r, err := d.net.lookup(name)
	if err != nil {
		return err
	}
	if r.predefined() {
		return errdefs.Errorf(errdefs.Forbidden, "%s is a pre-defined network and cannot be removed", r.Name)
	}
	for _, c := range d.networkUsers(r) {
		if c.State.Running() {
			return errdefs.Errorf(errdefs.Conflict, "error while removing network: network %s has active endpoints (name:%q id:%q)", r.Name, c.Name, c.ID[:12])
		}
	}
	if err := d.deleteNetworkFile(r); err != nil {
		return err
	}
	d.dropNetwork(ctx, r)
	d.networkEvent(r, "destroy", nil)
	return nil
}

// dropNetwork removes r's bridge and forgets it.
func (d *Daemon) dropNetwork(ctx context.Context, r *netRecord) {
	d.net.mu.Lock()
	delete(d.net.byID, r.ID)
	d.net.mu.Unlock()
	if r.dns != nil {
		r.dns.Close()
	}
	logErr(ctx, d.net.sb.RemoveBridge(ctx, r.Bridge, r.Subnet), "remove bridge")
}

// NetworksPrune implements api.NetworkBackend: user-defined networks no
// container is configured for.
func (d *Daemon) NetworksPrune(ctx context.Context, f filters.Args) (network.PruneReport, error) {
	var rep network.PruneReport
	if d.net == nil {
		return rep, nil
	}
	var until time.Time
	if v := f["until"]; len(v) > 0 {
		t, err := filters.ParseTimestamp(v[0])
		if err != nil {
			return rep, err
		}
		until = t
	}
	for _, r := range d.net.list() {
		if r.predefined() || len(d.networkUsers(r)) > 0 || !f.MatchLabels("label", r.Labels) || pruneLabelNot(f, r.Labels) ||
			!until.IsZero() && !r.Created.Before(until) {
			continue
		}
		if err := d.NetworkRemove(ctx, r.ID); err == nil {
			rep.NetworksDeleted = append(rep.NetworksDeleted, r.Name)
		}
	}
	return rep, nil
}

// pruneLabelNot reports whether a label! filter excludes labels.
func pruneLabelNot(f filters.Args, labels map[string]string) bool {
	return len(f["label!"]) > 0 && f.MatchLabels("label!", labels)
}
