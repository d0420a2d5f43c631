package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// connectNetwork gives a container with its own network a namespace, an
// interface and address on each of its networks and its published ports,
// and records them. On error nothing is left set up.
func (d *Daemon) connectNetwork(ctx context.Context, c *ctr.Container) (_ *ctr.Container, err error) {
	if !ownNetNS(c.HostConfig.NetworkMode) {
		return c, nil
	}
	if _, err := d.netnsPath(c.ID); err != nil {
		return nil, err
	}
	if _, err := d.net.sb.CreateNetNS(ctx, c.ID); err != nil {
		return nil, err
	}
	eps, id := map[string]*network.EndpointSettings{}, c.ID
	defer func() {
		if err != nil {
			d.releaseNetwork(ctx, id, eps)
			_, uerr := d.containers.Update(id, func(c *ctr.Container) error { clearNetwork(c); return nil })
			logErr(ctx, uerr, "record network teardown")
		}
	}()
	route := true
	for i, name := range containerNetworks(c) {
		var cfg *network.EndpointSettings
		if c.Network != nil {
			cfg = c.Network.Networks[name]
		}
		nr, err := d.net.lookup(name)
		if err != nil {
			return nil, err
		}
		ep, err := d.attachEndpoint(ctx, c, nr, cfg, "eth"+strconv.Itoa(i), route && !nr.Internal)
		if err != nil {
			return nil, err
		}
		route = route && nr.Internal
		eps[nr.Name] = ep
	}
	ports, err := d.publishPorts(ctx, c, firstAddr(eps))
	if err != nil {
		return nil, err
	}
	c, err = d.containers.Update(c.ID, func(c *ctr.Container) error {
		c.Network = &container.NetworkSettings{SandboxID: c.ID, SandboxKey: d.net.sb.NetNSPath(c.ID), Ports: ports, Networks: eps}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.endpointEvents(c, "connect")
	if err := d.writeHostsEntry(c, firstAddr(eps), firstEndpoint(eps).GlobalIPv6Address); err != nil {
		return c, err
	}
	if err := d.writeLinkHosts(c); err != nil {
		return c, err
	}
	d.updateParentHosts(ctx, c)
	return c, d.embeddedResolvConf(c)
}

// firstAddr is the address published ports forward to.
func firstAddr(eps map[string]*network.EndpointSettings) netip.Addr {
	return firstEndpoint(eps).IPAddress
}

// firstEndpoint is the endpoint of the first network by name, or an
// empty one.
func firstEndpoint(eps map[string]*network.EndpointSettings) *network.EndpointSettings {
	var best string
	for name := range eps {
		if best == "" || name < best {
			best = name
		}
	}
	if best == "" {
		return &network.EndpointSettings{}
	}
	return eps[best]
}

// attachEndpoint allocates addresses on nr and adds the interface.
func (d *Daemon) attachEndpoint(ctx context.Context, c *ctr.Container, nr *netRecord, cfg *network.EndpointSettings, ifName string, route bool) (*network.EndpointSettings, error) {
	ifc, err := allocAddrs(nr, cfg)
	if err != nil {
		return nil, err
	}
	ifc.Bridge, ifc.IfName = nr.Bridge, ifName
	if cfg != nil {
		ifc.MAC = net.HardwareAddr(cfg.MacAddress)
	}
	if route {
		ifc.Gateway = nr.Gateway
		ifc.Gateway6 = nr.Gateway6
	}
	if err := d.net.sb.AddInterface(ctx, c.ID, ifc); err != nil {
		releaseAddrs(nr, ifc)
		return nil, err
	}
	d.net.ifaces.Store(c.ID+"/"+nr.ID, ifName)
	// MacAddress stays the user's (API 1.44): the record keeps what was
	// asked for, inspect shows the derived one when nothing was.
	ep := &network.EndpointSettings{NetworkID: nr.ID, EndpointID: randomID(), Gateway: nr.Gateway,
		IPAddress: ifc.Addr.Addr(), IPPrefixLen: ifc.Addr.Bits()}
	setIPv6(ep, nr, ifc)
	if cfg != nil {
		ep.Aliases, ep.IPAMConfig, ep.Links, ep.MacAddress = cfg.Aliases, cfg.IPAMConfig, cfg.Links, cfg.MacAddress
	}
	if nr.Name != defaultNetwork {
		ep.DNSNames = append([]string{c.Name, c.ID[:12]}, ep.Aliases...)
	}
	return ep, nil
}

// allocAddrs reserves the endpoint's IPv4 address and, on a network with
// IPv6, its IPv6 address.
func allocAddrs(nr *netRecord, cfg *network.EndpointSettings) (netns.Interface, error) {
	if nr.pool == nil {
		return netns.Interface{}, errdefs.Errorf(errdefs.InvalidParameter, "container cannot be connected to network %s", nr.Name)
	}
	var want netip.Addr
	if cfg != nil && cfg.IPAMConfig != nil {
		want = cfg.IPAMConfig.IPv4Address
	}
	if want.IsValid() && nr.Name == defaultNetwork {
		return netns.Interface{}, errdefs.Errorf(errdefs.InvalidParameter, "user specified IP address is supported on user defined networks only")
	}
	ip, err := nr.pool.Allocate(want)
	if err != nil {
		return netns.Interface{}, err
	}
	ifc := netns.Interface{Addr: netip.PrefixFrom(ip, nr.Subnet.Bits())}
	if ifc.Addr6, err = allocIPv6(nr, cfg); err != nil {
		nr.pool.Release(ip)
		return netns.Interface{}, err
	}
	return ifc, nil
}

// releaseAddrs returns the interface's addresses to nr's pools.
func releaseAddrs(nr *netRecord, ifc netns.Interface) {
	if nr.pool != nil && ifc.Addr.IsValid() {
		nr.pool.Release(ifc.Addr.Addr())
	}
	if nr.pool6 != nil && ifc.Addr6.IsValid() {
		nr.pool6.Release(ifc.Addr6.Addr())
	}
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
	d.releaseNetwork(ctx, c.ID, c.Network.Networks)
	if c.Network.SandboxID != "" {
		d.endpointEvents(c, "disconnect")
	}
}

// endpointEvents emits a network connect or disconnect event per network
// the container joins or leaves at start and exit, as dockerd does.
func (d *Daemon) endpointEvents(c *ctr.Container, action string) {
	for name := range c.Network.Networks {
		if nr, err := d.net.lookup(name); err == nil {
			d.networkEvent(nr, action, map[string]string{"container": c.ID})
		}
	}
}

// clearNetwork drops the operational data from the record: the networks
// stay with their configuration, as Docker shows a stopped container.
func clearNetwork(c *ctr.Container) {
	if c.Network == nil {
		return
	}
	c.Network.Ports, c.Network.SandboxID, c.Network.SandboxKey = nil, "", ""
	nets := map[string]*network.EndpointSettings{}
	for name, ep := range c.Network.Networks {
		nets[name] = endpointConfig(ep)
	}
	c.Network.Networks = nets
}

// endpointConfig keeps the user's part of an endpoint.
func endpointConfig(ep *network.EndpointSettings) *network.EndpointSettings {
	if ep == nil {
		return &network.EndpointSettings{}
	}
	return &network.EndpointSettings{NetworkID: ep.NetworkID, Aliases: ep.Aliases, IPAMConfig: ep.IPAMConfig, Links: ep.Links,
		MacAddress: configuredMAC(ep)}
}

// releaseNetwork undoes connectNetwork's steps; each is idempotent.
func (d *Daemon) releaseNetwork(ctx context.Context, id string, eps map[string]*network.EndpointSettings) {
	d.unpublishPorts(id)
	logErr(ctx, d.net.sb.DeleteNetNS(ctx, id), "remove container network namespace")
	for name, ep := range eps {
		d.releaseAddr(id, name, ep)
	}
}

// releaseAddr returns one endpoint's address to its network's pool.
func (d *Daemon) releaseAddr(id, name string, ep *network.EndpointSettings) {
	nr, err := d.net.lookup(name)
	if err != nil || ep == nil {
		return
	}
	d.net.ifaces.Delete(id + "/" + nr.ID)
	releaseAddrs(nr, netns.Interface{Addr: netip.PrefixFrom(ep.IPAddress, ep.IPPrefixLen), Addr6: endpointIPv6(ep)})
}

// writeHostsEntry adds "<ip> <hostname>" to the container's /etc/hosts
// for each valid address (IPv4, and IPv6 on networks with IPv6).
func (d *Daemon) writeHostsEntry(c *ctr.Container, ips ...netip.Addr) error {
	if err := d.writeEtcFiles(c); err != nil {
		return err
	}
	f, err := os.OpenFile(c.HostsPath, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	defer f.Close()
	for _, ip := range ips {
		if !ip.IsValid() {
			continue
		}
		if _, err := fmt.Fprintf(f, "%s\t%s\n", ip, c.Config.Hostname); err != nil {
			return err
		}
	}
	return nil
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
