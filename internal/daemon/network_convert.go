package daemon

import (
	"sort"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// networkSettings renders the container's NetworkSettings for inspect. A
// bridge-mode container that never ran still lists the default network.
func (d *Daemon) networkSettings(c *ctr.Container) *container.NetworkSettings {
	ns := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}}
	if c.Network != nil {
		ns.SandboxID, ns.SandboxKey, ns.Ports = c.Network.SandboxID, c.Network.SandboxKey, c.Network.Ports
		for name, ep := range c.Network.Networks {
			ns.Networks[name] = withMAC(ep)
		}
	}
	if len(ns.Networks) == 0 && usesBridge(c.HostConfig.NetworkMode) && d.net != nil {
		if nr, err := d.net.lookup(defaultNetwork); err == nil {
			ns.Networks[defaultNetwork] = &network.EndpointSettings{NetworkID: nr.ID}
		}
	}
	if ns.Ports == nil {
		ns.Ports = network.PortMap{}
	}
	return ns
}

// portSummaries renders published ports for docker ps.
func portSummaries(c *ctr.Container) []container.PortSummary {
	out := []container.PortSummary{}
	if c.Network == nil {
		return out
	}
	for p, bindings := range c.Network.Ports {
		if len(bindings) == 0 {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
		}
		for _, b := range bindings {
			pub, _ := strconv.Atoi(b.HostPort)
			out = append(out, container.PortSummary{IP: b.HostIP, PrivatePort: p.Num(), PublicPort: uint16(pub), Type: string(p.Proto())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PrivatePort < out[j].PrivatePort })
	return out
}
