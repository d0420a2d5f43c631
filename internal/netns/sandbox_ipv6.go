package netns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// EnsureBridgeIPv6 gives the existing bridge name the IPv6 gateway
// address gw (prefix length included). The sandbox does not forward
// IPv6: containers reach each other on one bridge (switched, not routed)
// and the gateway, but no other network and not the outside (slirp4netns
// runs without --enable-ipv6), which is also what keeps IPv6 traffic
// inside its network without isolation rules of its own.
func (s *Sandbox) EnsureBridgeIPv6(ctx context.Context, name string, gw netip.Prefix) error {
	if !gw.Addr().Is6() {
		return fmt.Errorf("address bridge %s: %s is not an IPv6 address", name, gw)
	}
	return s.withHandle(func(h *netlink.Handle) error {
		if err := writeSysctl("/proc/sys/net/ipv6/conf/all/forwarding", "0"); err != nil {
			return err
		}
		if err := noDAD("default", name); err != nil {
			return err
		}
		if err := writeSysctl(filepath.Join("/proc/sys/net/ipv6/conf", name, "disable_ipv6"), "0"); err != nil {
			return err
		}
		link, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("find bridge %s: %w", name, err)
		}
		if err := h.AddrReplace(link, ipv6Addr(gw)); err != nil {
			return fmt.Errorf("address bridge %s: %w", name, err)
		}
		return nil
	})
}

// ipv6Addr is p without duplicate address detection: the pool hands out
// each address once, and DAD would hold the address back ("tentative")
// for a second or more after the container starts.
func ipv6Addr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: prefixNet(p), Flags: unix.IFA_F_NODAD}
}

// noDAD turns duplicate address detection off for the interfaces (or
// "default", for those made later): link-local addresses would otherwise
// stay tentative, and neighbour discovery wait, for a second or more.
func noDAD(ifNames ...string) error {
	for _, n := range ifNames {
		if err := writeSysctl(filepath.Join("/proc/sys/net/ipv6/conf", n, "accept_dad"), "0"); err != nil {
			return err
		}
	}
	return nil
}

// addEth6 gives the container's interface, before it goes up, its IPv6
// address (without DAD, so it is usable at once).
func addEth6(h *netlink.Handle, l netlink.Link, ifc Interface) error {
	if !ifc.Addr6.IsValid() {
		return nil
	}
	if err := noDAD(ifc.IfName); err != nil {
		return err
	}
	if err := writeSysctl(filepath.Join("/proc/sys/net/ipv6/conf", ifc.IfName, "disable_ipv6"), "0"); err != nil {
		return err
	}
	if err := h.AddrAdd(l, ipv6Addr(ifc.Addr6)); err != nil {
		return fmt.Errorf("add %s: %w", ifc.Addr6, err)
	}
	return nil
}

// routeEth6 adds the IPv6 default route when the interface has a gateway.
func routeEth6(h *netlink.Handle, l netlink.Link, ifc Interface) error {
	if !ifc.Addr6.IsValid() || !ifc.Gateway6.IsValid() {
		return nil
	}
	route := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.IP(ifc.Gateway6.AsSlice()), Family: netlink.FAMILY_V6}
	return h.RouteReplace(route)
}
