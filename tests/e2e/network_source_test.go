package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// peerSource answers every TCP connection and UDP datagram on port 8080
// with the address it came from.
const peerSource = `package main

import "net"

func main() {
	pc, err := net.ListenPacket("udp", ":8080")
	if err != nil {
		panic(err)
	}
	go func() {
		b := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(b)
			if err != nil {
				panic(err)
			}
			pc.WriteTo([]byte(from.(*net.UDPAddr).IP.String()+"\n"), from)
		}
	}()
	l, err := net.Listen("tcp", ":8080")
	if err != nil {
		panic(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			panic(err)
		}
		c.Write([]byte(c.RemoteAddr().(*net.TCPAddr).IP.String() + "\n"))
		c.Close()
	}
}
`

// TestNetworkPublishedPortKeepsClientAddress connects to a published port
// from the host's own non-loopback address, which the container must see
// as the peer, and from loopback, which it cannot (it sees the gateway).
func TestNetworkPublishedPortKeepsClientAddress(t *testing.T) {
	hostIP := hostIPv4(t)
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	port := freePort(t)
	id := monRun(t, d, "-v", peerBinary(t)+":/peer:ro", "-p", fmt.Sprintf("%d:8080", port), "-p", fmt.Sprintf("%d:8080/udp", port), "exec /peer")
	gw := monInspect(t, d, id, "{{.NetworkSettings.Networks.bridge.Gateway}}")
	for _, network := range []string{"tcp", "udp"} {
		if got := peerSeen(t, network, net.JoinHostPort(hostIP, fmt.Sprint(port))); got != hostIP {
			t.Errorf("%s from %s: the container saw %q", network, hostIP, got)
		}
		if got := peerSeen(t, network, fmt.Sprintf("127.0.0.1:%d", port)); got != gw {
			t.Errorf("%s from loopback: the container saw %q, want the gateway %s", network, got, gw)
		}
	}
}

// peerSeen polls addr until the container's server answers with a line.
func peerSeen(t *testing.T, network, addr string) string {
	t.Helper()
	var line string
	harness.Poll(t, 15*time.Second, "peer address from "+addr, func() (bool, string) {
		c, err := net.DialTimeout(network, addr, 2*time.Second)
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		if network == "udp" {
			c.Write([]byte("?"))
		}
		line, err = bufio.NewReader(c).ReadString('\n')
		return err == nil, fmt.Sprint(line, err)
	})
	return strings.TrimSpace(line)
}

// hostIPv4 is a non-loopback IPv4 address of this host; the test is
// skipped without one.
func hostIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("the host has no non-loopback IPv4 address")
	return ""
}

// peerBinary builds the static peer-address server.
func peerBinary(t *testing.T) string {
	t.Helper()
	return staticGoBinary(t, "peer", peerSource)
}
