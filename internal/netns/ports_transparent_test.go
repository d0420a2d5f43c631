package netns

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestKeepableSource(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5000":        "192.0.2.7",
		"[::ffff:10.1.2.3]:80":  "10.1.2.3",
		"127.0.0.1:5000":        "",
		"[::1]:5000":            "",
		"[2001:db8::1]:5000":    "",
		"169.254.1.1:5000":      "",
		"0.0.0.0:1":             "",
		"[fe80::1%eth0]:5000":   "",
		"[::ffff:127.0.0.1]:80": "",
	} {
		ap := netip.MustParseAddrPort(addr)
		got, ok := keepableSource(net.TCPAddrFromAddrPort(ap))
		if ok != (want != "") || ok && got.String() != want {
			t.Errorf("%s: %s %v, want %q", addr, got, ok, want)
		}
	}
	if a, ok := keepableSource(&net.UDPAddr{IP: net.IPv4(192, 0, 2, 7)}); !ok || a.String() != "192.0.2.7" {
		t.Errorf("UDP client: %s %v", a, ok)
	}
	if _, ok := keepableSource(&net.UnixAddr{Name: "/x"}); ok {
		t.Error("a unix socket address is kept")
	}
}

// TestPublishKeepsClientAddress publishes a port on every address and
// checks the address the container's server sees: the host's own
// non-loopback address is kept, a loopback client shows as the gateway.
func TestPublishKeepsClientAddress(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	hostIP := firstHostIPv4(t)
	ctx := t.Context()
	sb, target := sandboxWithPeer(t, ctx, "10.96.0.0", "ffffffffffff")
	gw := netip.MustParsePrefix("10.96.0.1/24")
	servePeer(t, sb.NetNSPath("ffffffffffff"))
	pub, err := sb.Publish(ctx, target, []PortMapping{{Proto: "tcp", ContainerPort: 7002}, {Proto: "udp", ContainerPort: 7002}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i, network := range []string{"tcp", "udp"} {
		port := pub.Mappings[i].HostPort
		if got := askPeer(t, network, net.JoinHostPort(hostIP, fmt.Sprint(port))); got != hostIP {
			t.Errorf("%s from %s: the container saw %s", network, hostIP, got)
		}
		if got := askPeer(t, network, fmt.Sprintf("127.0.0.1:%d", port)); got != gw.Addr().String() {
			t.Errorf("%s from loopback: the container saw %s, want the gateway", network, got)
		}
	}
}

// servePeer answers on TCP and UDP port 7002 in ns with the peer's address.
func servePeer(t *testing.T, ns string) {
	l, pc := listenIn(t, ns, 7002, 7002)
	go func() {
		b := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(from.(*net.UDPAddr).IP.String()+"\n"), from)
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, c.RemoteAddr().(*net.TCPAddr).IP)
			c.Close()
		}
	}()
}

func askPeer(t *testing.T, network, addr string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if network == "udp" {
		c.Write([]byte("?"))
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

func firstHostIPv4(t *testing.T) string {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this host")
	return ""
}
