package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// connectNetwork gives a bridge-mode container its namespace, an address
// on the default network and its published ports, and records them. On
// error nothing is left set up.
func (d *Daemon) connectNetwork(ctx context.Context, c *ctr.Container) (_ *ctr.Container, err error) {
	if !usesBridge(c.HostConfig.NetworkMode) {
		return c, nil
	}
	if _, err := d.netnsPath(c.ID); err != nil {
		return nil, err
	}
	nr, err := d.net.get(defaultNetwork)
	if err != nil {
		return nil, err
	}
	ip, err := nr.pool.Allocate(netip.Addr{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.releaseNetwork(ctx, c.ID, []netip.Addr{ip})
		}
	}()
	ep, err := d.attachEndpoint(ctx, c, nr, ip)
	if err != nil {
		return nil, err
	}
	ports, err := d.publishPorts(ctx, c, ip)
	if err != nil {
		return nil, err
	}
	c, err = d.containers.Update(c.ID, func(c *ctr.Container) error {
		c.Network = &container.NetworkSettings{SandboxID: ep.EndpointID, SandboxKey: d.net.sb.NetNSPath(c.ID),
			Ports: ports, Networks: map[string]*network.EndpointSettings{nr.Name: ep}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, d.writeHostsEntry(c, ip)
}

// attachEndpoint creates the namespace and the veth pair to nr's bridge.
func (d *Daemon) attachEndpoint(ctx context.Context, c *ctr.Container, nr *netRecord, ip netip.Addr) (*network.EndpointSettings, error) {
	sb := d.net.sb
	if _, err := sb.CreateNetNS(ctx, c.ID); err != nil {
		return nil, err
	}
	bits := nr.pool.Subnet().Bits()
	ifc := netns.Interface{Bridge: nr.Bridge, IfName: "eth0", Addr: netip.PrefixFrom(ip, bits), Gateway: nr.pool.Gateway()}
	if err := sb.AddInterface(ctx, c.ID, ifc); err != nil {
		return nil, err
	}
	return &network.EndpointSettings{NetworkID: nr.ID, EndpointID: randomID(), Gateway: nr.pool.Gateway(),
		IPAddress: ip, IPPrefixLen: bits, MacAddress: network.HardwareAddr(netns.MACFor(ip))}, nil
}

// disconnectNetwork tears the container's network down after it stopped
// and records that.
func (d *Daemon) disconnectNetwork(ctx context.Context, c *ctr.Container) *ctr.Container {
	if c.Network == nil || d.net == nil || d.net.sb == nil {
		return c
	}
	d.releaseEndpoints(ctx, c)
	nc, err := d.containers.Update(c.ID, func(c *ctr.Container) error { clearNetwork(c); return nil })
	logErr(ctx, err, "record network teardown")
	if err != nil {
		return c
	}
	return nc
}

// releaseEndpoints closes the published ports, removes the veth pairs and
// the namespace, and returns the addresses.
func (d *Daemon) releaseEndpoints(ctx context.Context, c *ctr.Container) {
	if c.Network == nil || d.net == nil || d.net.sb == nil {
		return
	}
	var addrs []netip.Addr
	for _, ep := range c.Network.Networks {
		addrs = append(addrs, ep.IPAddress)
	}
	d.releaseNetwork(ctx, c.ID, addrs)
}

// clearNetwork drops the operational data from the record: the networks
// stay, without addresses, as Docker shows a stopped container.
func clearNetwork(c *ctr.Container) {
	if c.Network == nil {
		return
	}
	c.Network.Ports, c.Network.SandboxID, c.Network.SandboxKey = nil, "", ""
	nets := map[string]*network.EndpointSettings{}
	for name, ep := range c.Network.Networks {
		nets[name] = &network.EndpointSettings{NetworkID: ep.NetworkID, Aliases: ep.Aliases}
	}
	c.Network.Networks = nets
}

// releaseNetwork undoes connectNetwork's steps; each is idempotent.
func (d *Daemon) releaseNetwork(ctx context.Context, id string, addrs []netip.Addr) {
	d.unpublishPorts(id)
	logErr(ctx, d.net.sb.DeleteNetNS(ctx, id), "remove container network namespace")
	nr, err := d.net.get(defaultNetwork)
	if err != nil {
		return
	}
	for _, a := range addrs {
		if a.IsValid() {
			nr.pool.Release(a)
		}
	}
}

// writeHostsEntry adds "<ip> <hostname>" to the container's /etc/hosts.
func (d *Daemon) writeHostsEntry(c *ctr.Container, ip netip.Addr) error {
	if err := d.writeEtcFiles(c); err != nil {
		return err
	}
	f, err := os.OpenFile(c.HostsPath, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s\t%s\n", ip, c.Config.Hostname)
	return err
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
