package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// publishPorts binds the container's published ports and returns them in
// NetworkSettings.Ports' shape (exposed but unpublished ports map to nil).
func (d *Daemon) publishPorts(ctx context.Context, c *ctr.Container, ip netip.Addr) (network.PortMap, error) {
	maps, err := portMappings(c.Config, c.HostConfig)
	if err != nil {
		return nil, err
	}
	pub, err := d.net.sb.Publish(ctx, ip, maps)
	if err != nil {
		return nil, fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): Error starting userland proxy: %w", c.Name, c.ID[:12], err)
	}
	d.net.ports.Store(c.ID, pub)
	return publishedPortMap(c.Config.ExposedPorts, pub.Mappings), nil
}

// publishedPortMap renders bound mappings as NetworkSettings.Ports: one
// binding per host socket, plus "::" beside "0.0.0.0" for a dual-stack
// socket, as Docker lists them when the host has IPv6.
func publishedPortMap(exposed network.PortSet, maps []netns.PortMapping) network.PortMap {
	out := network.PortMap{}
	for p := range exposed {
		out[p] = nil
	}
	for _, m := range maps {
		p, err := network.ParsePort(fmt.Sprintf("%d/%s", m.ContainerPort, m.Proto))
		if err != nil {
			continue
		}
		hostIP, hostPort := m.HostIP, strconv.Itoa(int(m.HostPort))
		if !hostIP.IsValid() {
			hostIP = netip.IPv4Unspecified()
		}
		out[p] = append(out[p], network.PortBinding{HostIP: hostIP, HostPort: hostPort})
		if m.DualStack {
			out[p] = append(out[p], network.PortBinding{HostIP: netip.IPv6Unspecified(), HostPort: hostPort})
		}
	}
	return out
}

// unpublishPorts closes the container's published ports, if any.
func (d *Daemon) unpublishPorts(id string) {
	if p, ok := d.net.ports.LoadAndDelete(id); ok {
		p.(*netns.Published).Close()
	}
}

// portMappings turns HostConfig.PortBindings (and, with -P, every exposed
// port) into mappings: "" host port or -P choose a free port, "a-b" the
// first free one of the range.
func portMappings(cfg *container.Config, hc *container.HostConfig) ([]netns.PortMapping, error) {
	bindings := network.PortMap{}
	for p, b := range hc.PortBindings {
		bindings[p] = b
	}
	if hc.PublishAllPorts {
		for p := range cfg.ExposedPorts {
			if len(bindings[p]) == 0 {
				bindings[p] = []network.PortBinding{{}}
			}
		}
	}
	return mappingsOf(bindings)
}

// mappingsOf turns port bindings into mappings, sorted by container port.
func mappingsOf(bindings network.PortMap) ([]netns.PortMapping, error) {
	var out []netns.PortMapping
	for p, list := range bindings {
		for _, b := range list {
			m, err := portMapping(p, b)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerPort < out[j].ContainerPort })
	return out, nil
}

func portMapping(p network.Port, b network.PortBinding) (netns.PortMapping, error) {
	m := netns.PortMapping{Proto: string(p.Proto()), HostIP: b.HostIP, ContainerPort: p.Num()}
	if m.Proto != "tcp" && m.Proto != "udp" {
		return m, errdefs.Errorf(errdefs.InvalidParameter, "invalid proto: %s", m.Proto)
	}
	if m.HostIP.IsValid() && m.HostIP.IsUnspecified() {
		m.HostIP = netip.Addr{}
	}
	if b.HostPort == "" {
		return m, nil
	}
	lo, hi, isRange := strings.Cut(b.HostPort, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return m, errdefs.Errorf(errdefs.InvalidParameter, "invalid hostPort: %s", b.HostPort)
	}
	m.HostPort = uint16(start)
	if isRange {
		end, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || end < start {
			return m, errdefs.Errorf(errdefs.InvalidParameter, "invalid hostPort: %s", b.HostPort)
		}
		m.HostPortEnd = uint16(end)
	}
	return m, nil
}
