package netns

import (
	"net/netip"
	"path/filepath"
	"testing"
)

// TestSandboxReusedWhileContainersRemain: a daemon that closes its
// sandbox while a container namespace remains leaves it for the next
// daemon, which finds the bridge, the namespace and its interface.
func TestSandboxReusedWhileContainersRemain(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	opt := SandboxOpt{Root: filepath.Join(t.TempDir(), "net"), Slirp4netns: "/nonexistent"}
	sb, err := OpenSandbox(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	gw, id := netip.MustParsePrefix("10.98.0.1/24"), "cccccccccccccccc"
	addr := netip.MustParsePrefix("10.98.0.2/24")
	if err := sb.EnsureBridge(ctx, "br-keep", gw, true); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.CreateNetNS(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddInterface(ctx, id, Interface{Bridge: "br-keep", IfName: "eth3", Addr: addr, Gateway: gw.Addr()}); err != nil {
		t.Fatal(err)
	}
	sb.Close()
	sb, err = OpenSandbox(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if ids := sb.NetNSIDs(); !sb.Reused() || len(ids) != 1 || ids[0] != id {
		t.Fatalf("second sandbox: reused %v, container namespaces %q, want [%s]", sb.Reused(), ids, id)
	}
	if name, err := sb.InterfaceWith(ctx, id, addr.Addr()); err != nil || name != "eth3" {
		t.Errorf("InterfaceWith = %q, %v; want eth3", name, err)
	}
	if err := sb.DeleteNetNS(ctx, id); err != nil {
		t.Fatal(err)
	}
	sb.Close()
	if isNetNSHandle(sb.Path()) {
		t.Error("sandbox still mounted after the last container namespace went")
	}
}
