package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Reused reports whether the sandbox is the one an earlier daemon set up;
// its container namespaces may then still be in use (HasNetNS).
func (s *Sandbox) Reused() bool { return s.reused }

// HasNetNS reports whether the container's namespace handle is mounted.
func (s *Sandbox) HasNetNS(id string) bool { return isNetNSHandle(s.NetNSPath(id)) }

// NetNSIDs lists the containers whose namespace handles are mounted.
func (s *Sandbox) NetNSIDs() []string {
	entries, _ := os.ReadDir(s.nsDir())
	var ids []string
	for _, e := range entries {
		if s.HasNetNS(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

// isNetNSHandle reports whether path is a bind mount of a network
// namespace in this mount namespace.
func isNetNSHandle(path string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}

// InterfaceWith returns the name of the container's interface that holds
// addr, for a container whose interfaces an earlier daemon added.
func (s *Sandbox) InterfaceWith(ctx context.Context, id string, addr netip.Addr) (string, error) {
	var name string
	err := withHandleAt(s.NetNSPath(id), func(h *netlink.Handle) error {
		addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
				link, err := h.LinkByIndex(a.LinkIndex)
				if err != nil {
					return err
				}
				name = link.Attrs().Name
				return nil
			}
		}
		return fmt.Errorf("no interface with address %s", addr)
	})
	return name, err
}
