package netns

import (
	"net"
	"net/netip"
	"testing"
)

// TestPublishReportsDualStack checks that a port published on every
// address reports a dual-stack bind exactly when the host takes one (an
// IPv6 wildcard listener), and that a port on a given address never does.
func TestPublishReportsDualStack(t *testing.T) {
	probe, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	hostIPv6 := probe.Addr().(*net.TCPAddr).IP.To4() == nil
	probe.Close()
	sb := &Sandbox{} // binding needs no namespace; only forwarding does
	loopback := netip.MustParseAddr("127.0.0.1")
	pub, err := sb.Publish(t.Context(), netip.MustParseAddr("10.0.0.2"),
		[]PortMapping{{Proto: "tcp", ContainerPort: 80}, {Proto: "udp", ContainerPort: 53}, {Proto: "tcp", HostIP: loopback, ContainerPort: 81}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i, want := range []bool{hostIPv6, hostIPv6, false} {
		if m := pub.Mappings[i]; m.DualStack != want || m.HostPort == 0 {
			t.Errorf("mapping %d: %+v, want DualStack %v (host IPv6 %v)", i, m, want, hostIPv6)
		}
	}
}

// TestPublishBindsRepeatedMappingOnce publishes one fixed port twice with
// an unspecified host address (0.0.0.0 and :: as the daemon hands them
// over): one socket, no "address already in use".
func TestPublishBindsRepeatedMappingOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	m := PortMapping{Proto: "tcp", HostPort: port, ContainerPort: 80}
	pub, err := (&Sandbox{}).Publish(t.Context(), netip.MustParseAddr("10.0.0.2"), []PortMapping{m, m, {Proto: "udp", HostPort: port, ContainerPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if len(pub.Mappings) != 2 || pub.Mappings[0].HostPort != port || pub.Mappings[1].Proto != "udp" {
		t.Errorf("mappings %+v", pub.Mappings)
	}
}
