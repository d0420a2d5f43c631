package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Interface is one container interface: a veth pair from a bridge in the
// sandbox to IfName in the container's namespace.
type Interface struct {
	Bridge  string           // the sandbox bridge
	IfName  string           // eth0, eth1, ...
	Addr    netip.Prefix     // the container's address and prefix length
	Gateway netip.Addr       // set: the default route goes through it
	MAC     net.HardwareAddr // empty: derived from Addr
	// Addr6 is the container's IPv6 address, if its network has IPv6.
	Addr6 netip.Prefix
	// Gateway6 is set with Gateway on networks with IPv6: the IPv6
	// default route goes through it.
	Gateway6 netip.Addr
}

// NetNSPath is where the container's network namespace handle lives.
func (s *Sandbox) NetNSPath(id string) string { return filepath.Join(s.nsDir(), id) }

// CreateNetNS creates the container's network namespace with loopback up.
func (s *Sandbox) CreateNetNS(ctx context.Context, id string) (string, error) {
	path := s.NetNSPath(id)
	_ = releaseNetNS(path) // a leftover of a run that was not torn down
	if err := newNetNS(path); err != nil {
		return "", fmt.Errorf("create container network namespace: %w", err)
	}
	err := withHandleAt(path, func(h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		return h.LinkSetUp(lo)
	})
	if err != nil {
		_ = releaseNetNS(path)
		return "", fmt.Errorf("bring up container loopback: %w", err)
	}
	return path, nil
}

// DeleteNetNS removes the container's namespace; its veth pairs go with it.
func (s *Sandbox) DeleteNetNS(ctx context.Context, id string) error {
	for _, name := range s.hostVeths(id) {
		_ = s.withHandle(func(h *netlink.Handle) error {
			if l, err := h.LinkByName(name); err == nil {
				return h.LinkDel(l)
			}
			return nil
		})
	}
	return releaseNetNS(s.NetNSPath(id))
}

// hostVeths lists the sandbox ends of the container's veth pairs.
func (s *Sandbox) hostVeths(id string) []string {
	var out []string
	_ = s.withHandle(func(h *netlink.Handle) error {
		links, err := h.LinkList()
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, hostVethPrefix(id)) {
				out = append(out, l.Attrs().Name)
			}
		}
		return err
	})
	return out
}

func hostVethPrefix(id string) string { return "ve" + id[:min(10, len(id))] }

// hostVeth names the sandbox end (at most 15 bytes, the kernel's limit).
func hostVeth(id, ifName string) string {
	return hostVethPrefix(id) + "-" + strings.TrimPrefix(ifName, "eth")
}

// AddInterface connects the container's namespace to a bridge.
func (s *Sandbox) AddInterface(ctx context.Context, id string, ifc Interface) error {
	path := s.NetNSPath(id)
	cns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open container network namespace: %w", err)
	}
	defer cns.Close()
	host, peer := hostVeth(id, ifc.IfName), "vp"+id[:min(12, len(id))]
	if err := s.createVeth(ifc.Bridge, host, peer, cns); err != nil {
		return err
	}
	err = withHandleAt(path, func(h *netlink.Handle) error { return configureEth(h, peer, ifc) })
	if err != nil {
		s.removeLink(host)
		return fmt.Errorf("configure %s: %w", ifc.IfName, err)
	}
	return nil
}

// RemoveInterface disconnects one interface of the container.
func (s *Sandbox) RemoveInterface(ctx context.Context, id, ifName string) error {
	return s.removeLink(hostVeth(id, ifName))
}

func (s *Sandbox) removeLink(name string) error {
	return s.withHandle(func(h *netlink.Handle) error {
		l, err := h.LinkByName(name)
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return err
		}
		return h.LinkDel(l)
	})
}

// createVeth creates the pair in the sandbox, enslaves the host end to
// the bridge and moves the peer into the container's namespace.
func (s *Sandbox) createVeth(bridge, host, peer string, cns netns.NsHandle) error {
	return s.withHandle(func(h *netlink.Handle) error {
		br, err := h.LinkByName(bridge)
		if err != nil {
			return fmt.Errorf("find bridge %s: %w", bridge, err)
		}
		if old, err := h.LinkByName(host); err == nil {
			_ = h.LinkDel(old)
		}
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: host, MTU: SlirpMTU, MasterIndex: br.Attrs().Index},
			PeerName: peer, PeerNamespace: netlink.NsFd(int(cns))}
		if err := h.LinkAdd(veth); err != nil {
			return fmt.Errorf("create veth pair: %w", err)
		}
		l, err := h.LinkByName(host)
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err != nil {
			_ = h.LinkDel(veth)
			return fmt.Errorf("bring up %s: %w", host, err)
		}
		return nil
	})
}

// configureEth renames the peer and gives it its address and route.
func configureEth(h *netlink.Handle, peer string, ifc Interface) error {
	l, err := h.LinkByName(peer)
	if err != nil {
		return err
	}
	mac := ifc.MAC
	if len(mac) == 0 {
		mac = MACFor(ifc.Addr.Addr())
	}
	steps := []func() error{
		func() error { return h.LinkSetName(l, ifc.IfName) },
		func() error { return h.LinkSetHardwareAddr(l, mac) },
		func() error { return h.LinkSetMTU(l, SlirpMTU) },
		func() error { return h.AddrAdd(l, &netlink.Addr{IPNet: prefixNet(ifc.Addr)}) },
		func() error { return addEth6(h, l, ifc) },
		func() error { return h.LinkSetUp(l) },
		func() error { return routeEth6(h, l, ifc) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if !ifc.Gateway.IsValid() {
		return nil
	}
	gw := net.IP(ifc.Gateway.AsSlice())
	return h.RouteReplace(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw})
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
