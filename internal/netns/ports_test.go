package netns

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublishForwardsTCPAndUDPAndFreesPorts(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	sb, target := sandboxWithPeer(t, ctx, "10.98.0.0", "cccccccccccc")
	serveEcho(t, sb.NetNSPath("cccccccccccc"))
	loopback := netip.MustParseAddr("127.0.0.1")
	pub, err := sb.Publish(ctx, target, []PortMapping{{Proto: "tcp", HostIP: loopback, ContainerPort: 7000}, {Proto: "udp", HostIP: loopback, ContainerPort: 7001}})
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := fmt.Sprintf("127.0.0.1:%d", pub.Mappings[0].HostPort)
	udpAddr := fmt.Sprintf("127.0.0.1:%d", pub.Mappings[1].HostPort)
	roundTrip(t, "tcp", tcpAddr)
	roundTrip(t, "udp", udpAddr)
	// a second set on a taken port fails and leaves its other port free
	_, err = sb.Publish(ctx, target, []PortMapping{{Proto: "tcp", HostIP: loopback, HostPort: 0, ContainerPort: 1}, {Proto: "tcp", HostIP: loopback, HostPort: pub.Mappings[0].HostPort, ContainerPort: 2}})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("taken port: %v", err)
	}
	pub.Close()
	if l, err := net.Listen("tcp", tcpAddr); err != nil {
		t.Errorf("port still bound after Close: %v", err)
	} else {
		l.Close()
	}
}

// listenIn opens a TCP listener and a UDP socket on the given ports in
// ns; both close when t ends.
func listenIn(t *testing.T, ns string, tcpPort, udpPort int) (net.Listener, net.PacketConn) {
	t.Helper()
	var l net.Listener
	var pc net.PacketConn
	err := inNetNS(ns, func() (err error) {
		if l, err = net.Listen("tcp", fmt.Sprintf(":%d", tcpPort)); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", fmt.Sprintf(":%d", udpPort))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); pc.Close() })
	return l, pc
}

// serveEcho runs TCP and UDP echo servers on ports 7000 and 7001 in ns.
func serveEcho(t *testing.T, ns string) {
	l, pc := listenIn(t, ns, 7000, 7001)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	go func() {
		b := make([]byte, 1500)
		for {
			n, a, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo(b[:n], a)
		}
	}()
}

func roundTrip(t *testing.T, network, addr string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("%s echo: %q %v", network, b, err)
	}
}
