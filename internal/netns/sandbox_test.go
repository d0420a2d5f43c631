package netns

import (
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

func TestSandboxBridgeConnectsContainers(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	root := filepath.Join(t.TempDir(), "net")
	sb, err := OpenSandbox(ctx, SandboxOpt{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := exec.LookPath("slirp4netns"); err == nil && !sb.Outbound() {
		t.Error("slirp4netns is installed but the sandbox has no outbound access")
	}
	gw := netip.MustParsePrefix("10.99.0.1/24")
	if err := sb.EnsureBridge(ctx, "br-test", gw, true); err != nil {
		t.Fatal(err)
	}
	if err := sb.EnsureBridge(ctx, "br-test", gw, true); err != nil {
		t.Fatalf("second EnsureBridge: %v", err)
	}
	for i, id := range []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"} {
		if _, err := sb.CreateNetNS(ctx, id); err != nil {
			t.Fatal(err)
		}
		addr := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 99, 0, byte(2 + i)}), 24)
		if err := sb.AddInterface(ctx, id, Interface{Bridge: "br-test", IfName: "eth0", Addr: addr, Gateway: gw.Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	checkEth0(t, sb.NetNSPath("aaaaaaaaaaaaaaaa"))
	checkTCP(t, sb.NetNSPath("bbbbbbbbbbbbbbbb"), sb.NetNSPath("aaaaaaaaaaaaaaaa"), "10.99.0.3:7777")
	for _, id := range []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"} {
		if err := sb.DeleteNetNS(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if len(sb.hostVeths("aaaaaaaaaaaaaaaa")) != 0 {
		t.Error("veth of a deleted namespace is still in the sandbox")
	}
	if err := sb.RemoveBridge(ctx, "br-test", gw); err != nil {
		t.Fatal(err)
	}
	rules, err := sb.masqRules(gw.Masked())
	if err != nil || len(rules) != 0 {
		t.Errorf("masquerade rules after RemoveBridge: %d, %v", len(rules), err)
	}
}

// checkEth0 checks eth0's MTU, MAC and default route.
func checkEth0(t *testing.T, path string) {
	t.Helper()
	err := withHandleAt(path, func(h *netlink.Handle) error {
		l, err := h.LinkByName("eth0")
		if err != nil {
			return err
		}
		if l.Attrs().MTU != SlirpMTU || l.Attrs().HardwareAddr.String() != "02:42:0a:63:00:02" {
			t.Errorf("eth0: mtu %d mac %s", l.Attrs().MTU, l.Attrs().HardwareAddr)
		}
		routes, err := h.RouteList(l, netlink.FAMILY_V4)
		var def bool
		for _, r := range routes {
			def = def || (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw.String() == "10.99.0.1"
		}
		if !def {
			t.Errorf("no default route via the gateway: %v", routes)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkTCP listens in one namespace and connects from another.
func checkTCP(t *testing.T, serverNS, clientNS, addr string) {
	t.Helper()
	var l net.Listener
	if err := inNetNS(serverNS, func() (err error) { l, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatalf("listen: %#v", err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	var c net.Conn
	if err := inNetNS(clientNS, func() (err error) { c, err = net.DialTimeout("tcp", addr, 5*time.Second); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, 2)
	if _, err := c.Read(b); err != nil || string(b) != "hi" {
		t.Fatalf("read %q: %v", b, err)
	}
}

func TestSandboxIsolatesBridges(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	sb, err := OpenSandbox(ctx, SandboxOpt{Root: filepath.Join(t.TempDir(), "net"), Slirp4netns: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	nets := map[string]string{"br-one": "10.95.0.1/24", "br-two": "10.96.0.1/24"}
	ids := map[string]string{"br-one": "eeeeeeeeeeee", "br-two": "ffffffffffff"}
	for br, gw := range nets {
		p := netip.MustParsePrefix(gw)
		if err := sb.EnsureBridge(ctx, br, p, true); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.CreateNetNS(ctx, ids[br]); err != nil {
			t.Fatal(err)
		}
		defer sb.DeleteNetNS(ctx, ids[br])
		addr := netip.PrefixFrom(p.Addr().Next(), 24)
		if err := sb.AddInterface(ctx, ids[br], Interface{Bridge: br, IfName: "eth0", Addr: addr, Gateway: p.Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	var l net.Listener
	if err := inNetNS(sb.NetNSPath(ids["br-two"]), func() (err error) { l, err = net.Listen("tcp", ":7100"); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = inNetNS(sb.NetNSPath(ids["br-one"]), func() error {
		c, err := net.DialTimeout("tcp", "10.96.0.2:7100", time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err == nil {
		t.Error("a container reached another network's container")
	}
	if err := sb.RemoveBridge(ctx, "br-one", netip.MustParsePrefix(nets["br-one"])); err != nil {
		t.Fatal(err)
	}
}
