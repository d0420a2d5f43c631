package netns

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envSandboxTest marks the test binary re-executed as uid 0 of a new user
// and mount namespace, as the daemon runs.
const envSandboxTest = "NETNS_TEST_SANDBOX"

// inDaemonNS runs the calling test again in a new user namespace (one id:
// 0 -> the caller) and mount namespace, and reports its result. It returns
// true inside the re-executed test, which then does the real work.
func inDaemonNS(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envSandboxTest) != "" {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Fatalf("make mounts private: %v", err)
		}
		return true
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envSandboxTest+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}}
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil && cmd.ProcessState == nil:
		t.Skipf("user namespaces unavailable: %v", err)
	case strings.Contains(string(out), "--- SKIP"):
		t.Skipf("skipped in the namespace:\n%s", out)
	case err != nil:
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	t.Logf("in the namespace:\n%s", out)
	return false
}

// sandboxWithPeer opens a sandbox under tb's temp dir (no slirp4netns)
// with a bridge whose gateway is .1 of subnet (a /24, "10.98.0.0") and a
// container namespace id at .2 on it; it returns the sandbox and that
// address. Everything is released when tb ends.
func sandboxWithPeer(tb testing.TB, ctx context.Context, subnet, id string) (*Sandbox, netip.Addr) {
	tb.Helper()
	sb, err := OpenSandbox(ctx, SandboxOpt{Root: filepath.Join(tb.TempDir(), "net"), Slirp4netns: "/nonexistent"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sb.Close() })
	base := netip.MustParseAddr(subnet).As4()
	gw := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], base[2], 1}), 24)
	target := netip.AddrFrom4([4]byte{base[0], base[1], base[2], 2})
	bridge := "br-" + id[:min(8, len(id))]
	if err := sb.EnsureBridge(ctx, bridge, gw, true); err != nil {
		tb.Fatal(err)
	}
	if _, err := sb.CreateNetNS(ctx, id); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sb.DeleteNetNS(ctx, id) })
	if err := sb.AddInterface(ctx, id, Interface{Bridge: bridge, IfName: "eth0", Addr: netip.PrefixFrom(target, 24), Gateway: gw.Addr()}); err != nil {
		tb.Fatal(err)
	}
	return sb, target
}
