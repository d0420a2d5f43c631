package daemon

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

func port(s string) network.Port {
	p, err := network.ParsePort(s)
	if err != nil {
		panic(err)
	}
	return p
}

func TestPortMappings(t *testing.T) {
	cfg := &container.Config{ExposedPorts: network.PortSet{port("80/tcp"): {}, port("53/udp"): {}, port("9000/tcp"): {}}}
	hc := &container.HostConfig{PublishAllPorts: true, PortBindings: network.PortMap{
		port("80/tcp"):   {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
		port("53/udp"):   {{HostPort: "5300-5310"}},
		port("7000/tcp"): {{HostIP: netip.IPv4Unspecified()}},
	}}
	got, err := portMappings(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	want := []netns.PortMapping{
		{Proto: "udp", HostPort: 5300, HostPortEnd: 5310, ContainerPort: 53},
		{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80},
		{Proto: "tcp", ContainerPort: 7000},
		{Proto: "tcp", ContainerPort: 9000}, // -P: a free port
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPortMappingsRejectBadHostPort(t *testing.T) {
	for _, hp := range []string{"x", "90-80", "70000"} {
		hc := &container.HostConfig{PortBindings: network.PortMap{port("80/tcp"): {{HostPort: hp}}}}
		if _, err := portMappings(&container.Config{}, hc); !errdefs.IsInvalidParameter(err) {
			t.Errorf("host port %q: %v", hp, err)
		}
	}
}

func TestUsesBridge(t *testing.T) {
	for mode, want := range map[container.NetworkMode]bool{"": true, "default": true, "bridge": true, "none": false, "host": false, "container:x": false} {
		if usesBridge(mode) != want {
			t.Errorf("%q: %v", mode, !want)
		}
	}
}

func TestPublishedPortMap(t *testing.T) {
	exposed := network.PortSet{port("80/tcp"): {}, port("443/tcp"): {}}
	maps := []netns.PortMapping{
		{Proto: "tcp", HostPort: 8080, ContainerPort: 80, DualStack: true},
		{Proto: "udp", HostPort: 5353, ContainerPort: 53},
		{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 9000, ContainerPort: 9000},
	}
	got := publishedPortMap(exposed, maps)
	want := map[string]string{
		"80/tcp":   "0.0.0.0:8080 [::]:8080",
		"53/udp":   "0.0.0.0:5353",
		"9000/tcp": "127.0.0.1:9000",
		"443/tcp":  "",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for p, w := range want {
		var parts []string
		for _, b := range got[port(p)] {
			parts = append(parts, net.JoinHostPort(b.HostIP.String(), b.HostPort))
		}
		if s := strings.Join(parts, " "); s != w {
			t.Errorf("%s: %q, want %q", p, s, w)
		}
	}
}
