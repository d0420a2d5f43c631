package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestNetworkIPv6UserBridge creates a user network with IPv6 and checks
// inspect, the containers' addresses (picked and --ip6) and TCP over IPv6
// between them.
func TestNetworkIPv6UserBridge(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "network", "create", "--ipv6", "--subnet", "fd00:83::/64", "v6net")
	defer d.Docker(t, "network", "rm", "v6net")
	out := d.DockerOK(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}},{{.Gateway}} {{end}}", "v6net")
	if f := strings.Fields(out); len(f) != 3 || f[0] != "true" || !strings.HasPrefix(f[1], "172.") || f[2] != "fd00:83::/64,fd00:83::1" {
		t.Errorf("network inspect: %q", out)
	}
	srv := monRun(t, d, "--network", "v6net", "--name", "v6srv", "--ip6", "fd00:83::99", httpdScript("v6"))
	got := monInspect(t, d, srv, "{{with .NetworkSettings.Networks.v6net}}{{.GlobalIPv6Address}}/{{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}")
	if got != "fd00:83::99/64 fd00:83::1" {
		t.Errorf("inspect IPv6: %q", got)
	}
	other := monRun(t, d, "--network", "v6net", "sleep 1000")
	if ip := monInspect(t, d, other, "{{.NetworkSettings.Networks.v6net.GlobalIPv6Address}}"); ip != "fd00:83::2" {
		t.Errorf("picked IPv6 address %q, want fd00:83::2", ip)
	}
	if inet6 := d.DockerOK(t, "exec", other, "cat", "/proc/net/if_inet6"); !strings.Contains(inet6, "fd000083000000000000000000000002") {
		t.Errorf("eth0 lacks fd00:83::2:\n%s", inet6)
	}
	if hosts := d.DockerOK(t, "exec", other, "cat", "/etc/hosts"); !strings.Contains(hosts, "fd00:83::2\t") {
		t.Errorf("/etc/hosts lacks the container's IPv6 address:\n%s", hosts)
	}
	if out := d.DockerOK(t, "exec", other, "nslookup", "-type=AAAA", "v6srv"); !strings.Contains(out, "fd00:83::99") {
		t.Errorf("AAAA v6srv from the embedded DNS:\n%s", out)
	}
	harness.Poll(t, 15*time.Second, "GET over IPv6", func() (bool, string) {
		r := d.Docker(t, "exec", other, "sh", "-c", `printf 'GET / HTTP/1.0\r\n\r\n' | nc fd00:83::99 8080`)
		return strings.Contains(r.Stdout, "hello from v6"), r.String()
	})
	if r := d.Docker(t, "run", "--rm", "--network", "bridge", "--ip6", "fd00:83::5", img, "true"); r.ExitCode == 0 {
		t.Errorf("--ip6 on the default bridge (no IPv6) succeeded: %s", r)
	}
	d.DockerOK(t, "network", "create", "--ipv6", "v6auto")
	defer d.Docker(t, "network", "rm", "v6auto")
	if out := d.DockerOK(t, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", "v6auto"); !strings.Contains(out, "fd") || !strings.Contains(out, "::/64") {
		t.Errorf("default IPv6 subnet: %q", out)
	}
}

// TestNetworkPortsListIPv6Binding checks that a port published on every
// address shows the IPv6 wildcard beside 0.0.0.0 when the host has IPv6,
// and that it is served there.
func TestNetworkPortsListIPv6Binding(t *testing.T) {
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("the host has no IPv6 loopback: %v", err)
	}
	probe.Close()
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	port := freePort(t)
	id := monRun(t, d, "-p", fmt.Sprintf("%d:8080", port), httpdScript("dual"))
	want := fmt.Sprintf("0.0.0.0:%d [::]:%d", port, port)
	if out := strings.Join(strings.Fields(d.DockerOK(t, "port", id, "8080/tcp")), " "); out != want {
		t.Errorf("docker port: %q, want %q", out, want)
	}
	if ps := d.DockerOK(t, "ps", "--format", "{{.Ports}}", "--filter", "id="+id); !strings.Contains(ps, fmt.Sprintf("[::]:%d->8080/tcp", port)) {
		t.Errorf("docker ps: %q", ps)
	}
	httpGet(t, fmt.Sprintf("http://[::1]:%d/", port), "hello from dual")
}
