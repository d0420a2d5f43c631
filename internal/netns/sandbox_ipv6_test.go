package netns

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestSandboxIPv6AndMAC connects two containers to a bridge with IPv6,
// one with a MAC address of its own, and checks their addresses, the
// IPv6 default route and TCP over IPv6 between them; a container on a
// second bridge cannot reach them over IPv6 (the sandbox does not route it).
func TestSandboxIPv6AndMAC(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	sb, err := OpenSandbox(ctx, SandboxOpt{Root: filepath.Join(t.TempDir(), "net")})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	gw4, gw6 := netip.MustParsePrefix("10.98.0.1/24"), netip.MustParsePrefix("fd00:98::1/64")
	if err := sb.EnsureBridge(ctx, "br-v6", gw4, false); err != nil {
		t.Fatal(err)
	}
	if err := sb.EnsureBridgeIPv6(ctx, "br-v6", gw6); err != nil {
		t.Fatal(err)
	}
	mac, _ := net.ParseMAC("92:d0:c6:0a:29:33")
	for i, id := range []string{"cccccccccccccccc", "dddddddddddddddd"} {
		ifc := Interface{Bridge: "br-v6", IfName: "eth0", Addr: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 98, 0, byte(2 + i)}), 24),
			Gateway: gw4.Addr(), Addr6: netip.PrefixFrom(netip.MustParseAddr("fd00:98::"+string(rune('2'+i))), 64), Gateway6: gw6.Addr()}
		if i == 0 {
			ifc.MAC = mac
		}
		if _, err := sb.CreateNetNS(ctx, id); err != nil {
			t.Fatal(err)
		}
		defer sb.DeleteNetNS(ctx, id)
		if err := sb.AddInterface(ctx, id, ifc); err != nil {
			t.Fatal(err)
		}
	}
	checkEth0v6(t, sb.NetNSPath("cccccccccccccccc"), mac.String())
	checkTCP(t, sb.NetNSPath("dddddddddddddddd"), sb.NetNSPath("cccccccccccccccc"), "[fd00:98::3]:7777")
	checkTCP(t, sb.Path(), sb.NetNSPath("cccccccccccccccc"), "[fd00:98::1]:7779")
	checkNoIPv6Routing(t, sb)
}

// checkEth0v6 checks eth0's MAC, IPv6 address and IPv6 default route.
func checkEth0v6(t *testing.T, path, mac string) {
	t.Helper()
	err := withHandleAt(path, func(h *netlink.Handle) error {
		l, err := h.LinkByName("eth0")
		if err != nil {
			return err
		}
		if got := l.Attrs().HardwareAddr.String(); got != mac {
			t.Errorf("eth0 MAC %s, want %s", got, mac)
		}
		addrs, err := h.AddrList(l, netlink.FAMILY_V6)
		var found bool
		for _, a := range addrs {
			found = found || a.IP.String() == "fd00:98::2"
		}
		if !found {
			t.Errorf("eth0 lacks fd00:98::2: %v", addrs)
		}
		routes, _ := h.RouteList(l, netlink.FAMILY_V6)
		var def bool
		for _, r := range routes {
			def = def || (r.Dst == nil || r.Dst.IP.IsUnspecified() && r.Dst.Mask != nil && isZero(r.Dst.Mask)) && r.Gw.String() == "fd00:98::1"
		}
		if !def {
			t.Errorf("no IPv6 default route via fd00:98::1: %v", routes)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isZero(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// checkNoIPv6Routing puts a container on a second IPv6 bridge and checks
// that it cannot connect to the first one's containers over IPv6.
func checkNoIPv6Routing(t *testing.T, sb *Sandbox) {
	t.Helper()
	ctx := t.Context()
	if err := sb.EnsureBridge(ctx, "br-v6b", netip.MustParsePrefix("10.97.0.1/24"), false); err != nil {
		t.Fatal(err)
	}
	if err := sb.EnsureBridgeIPv6(ctx, "br-v6b", netip.MustParsePrefix("fd00:97::1/64")); err != nil {
		t.Fatal(err)
	}
	id := "eeeeeeeeeeeeeeee"
	if _, err := sb.CreateNetNS(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer sb.DeleteNetNS(ctx, id)
	ifc := Interface{Bridge: "br-v6b", IfName: "eth0", Addr: netip.MustParsePrefix("10.97.0.2/24"), Gateway: netip.MustParseAddr("10.97.0.1"),
		Addr6: netip.MustParsePrefix("fd00:97::2/64"), Gateway6: netip.MustParseAddr("fd00:97::1")}
	if err := sb.AddInterface(ctx, id, ifc); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if err := inNetNS(sb.NetNSPath("cccccccccccccccc"), func() (err error) { l, err = net.Listen("tcp", "[fd00:98::2]:7778"); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err := inNetNS(sb.NetNSPath(id), func() error {
		c, err := net.DialTimeout("tcp", "[fd00:98::2]:7778", time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err == nil {
		t.Error("a container on another bridge reached fd00:98::2 over IPv6")
	}
}
