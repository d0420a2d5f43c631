package daemon

import (
	"net"

	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// validateMAC accepts an empty address (derived from the IP at start) or
// a unicast Ethernet address, which is what a veth takes.
func validateMAC(mac network.HardwareAddr) error {
	if len(mac) == 0 {
		return nil
	}
	if len(mac) != 6 || mac[0]&1 == 1 {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid MAC address %s: a unicast Ethernet address is required", net.HardwareAddr(mac))
	}
	return nil
}

// macWithoutNetNS refuses a MAC address for host, none and
// container:<id>: there is no interface of the container's own to set it on.
func macWithoutNetNS(cfg *network.NetworkingConfig, name string) error {
	if cfg == nil {
		return nil
	}
	if ep := cfg.EndpointsConfig[name]; ep != nil && len(ep.MacAddress) > 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "conflicting options: mac-address and the network mode")
	}
	return nil
}

// endpointMAC is the MAC address an endpoint shows: the one asked for,
// else, while it has an address, the one derived from it (02:42:<ip>).
func endpointMAC(ep *network.EndpointSettings) network.HardwareAddr {
	if len(ep.MacAddress) > 0 || !ep.IPAddress.IsValid() {
		return ep.MacAddress
	}
	return network.HardwareAddr(netns.MACFor(ep.IPAddress))
}

// withMAC returns a copy of ep that shows its effective MAC address.
func withMAC(ep *network.EndpointSettings) *network.EndpointSettings {
	out := ep.Copy()
	out.MacAddress = endpointMAC(ep)
	return out
}

// configuredMAC is the MAC address the user asked for. Records written
// before MacAddress meant that held the derived address of a running
// endpoint; kept as "asked for", a later start with another address would
// reuse it and could duplicate the MAC of the container that now has the
// old address. A derived address is therefore not kept: asked for or not,
// the same IP derives it again.
func configuredMAC(ep *network.EndpointSettings) network.HardwareAddr {
	if ep.IPAddress.IsValid() && ep.IPAddress.Is4() && net.HardwareAddr(ep.MacAddress).String() == netns.MACFor(ep.IPAddress).String() {
		return nil
	}
	return ep.MacAddress
}
