package netns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/containerd/log"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// errOnLink means the client's address is on one of the sandbox's
// bridges: the container would answer it directly, not through us.
var errOnLink = errors.New("client address is on a sandbox bridge")

// keepableSource is the client address a forwarded connection or UDP
// flow can keep: an IPv4 address (IPv4-mapped ones included) that is not
// loopback, unspecified, multicast or link-local. Loopback clients cannot
// be kept: the container would answer its own loopback.
func keepableSource(client net.Addr) (netip.Addr, bool) {
	var a netip.Addr
	switch c := client.(type) {
	case *net.TCPAddr:
		a = c.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		a = c.AddrPort().Addr().Unmap()
	default:
		return netip.Addr{}, false
	}
	if !a.Is4() || a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast() {
		return netip.Addr{}, false
	}
	return a, true
}

// dialFrom connects to dst ("tcp" or "udp") from inside the sandbox. With
// keep set and a client address that can be kept, the socket has that
// address (IP_TRANSPARENT; ensureTransparent routes the replies back), so
// the container sees who connected; otherwise, or when that fails for any
// reason but the container refusing, the sandbox's own address.
func (s *Sandbox) dialFrom(ctx context.Context, network, dst string, client net.Addr, keep bool) (net.Conn, error) {
	src, ok := keepableSource(client)
	if !keep || !ok {
		return s.DialContext(ctx, network, dst)
	}
	var c net.Conn
	err := inNetNS(s.path, func() (err error) {
		if onSandboxLink(src) {
			return errOnLink
		}
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: localAddr(network, src), Control: setTransparent}
		c, err = d.DialContext(ctx, network, dst)
		return err
	})
	if err == nil || errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
		return c, err
	}
	log.G(ctx).WithError(err).WithField("client", src).Debug("published port: client address not kept")
	return s.DialContext(ctx, network, dst)
}

// localAddr is a's socket address (any port) for the network.
func localAddr(network string, a netip.Addr) net.Addr {
	if network == "udp" {
		return &net.UDPAddr{IP: a.AsSlice()}
	}
	return &net.TCPAddr{IP: a.AsSlice()}
}

// setTransparent lets the socket bind to an address that is not local.
func setTransparent(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_TRANSPARENT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// onSandboxLink reports whether the calling thread's namespace reaches a
// directly on a bridge (no gateway, not tap0): an address a container of
// that bridge would look for on the link.
func onSandboxLink(a netip.Addr) bool {
	h, err := netlink.NewHandle()
	if err != nil {
		return true
	}
	defer h.Close()
	routes, err := h.RouteGet(net.IP(a.AsSlice()))
	if err != nil || len(routes) == 0 {
		return false // no route: not on any link (no slirp4netns)
	}
	r := routes[0]
	if r.Gw != nil {
		return false
	}
	l, err := h.LinkByIndex(r.LinkIndex)
	return err != nil || l.Attrs().Name != tapName
}

// keepSources sets up the return path for kept client addresses when
// there are ports to publish; without it (e.g. no nftables socket match
// in the kernel) every connection comes from the sandbox's address, as
// before.
func (s *Sandbox) keepSources(ctx context.Context, maps []PortMapping) bool {
	if s.path == "" || len(maps) == 0 {
		return false
	}
	if err := s.ensureTransparent(); err != nil {
		log.G(ctx).WithError(err).Warn("published ports do not keep client addresses")
		return false
	}
	return true
}
