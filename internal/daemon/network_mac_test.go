package daemon

import (
	"net"
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func mustMAC(t *testing.T, s string) network.HardwareAddr {
	t.Helper()
	hw, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return network.HardwareAddr(hw)
}

func TestValidateMAC(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "02:42:ac:11:00:99": true, "92:d0:c6:0a:29:33": true,
		"01:00:5e:00:00:01": false, "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01": false} {
		var mac network.HardwareAddr
		if s != "" {
			mac = mustMAC(t, s)
		}
		err := validateMAC(mac)
		if (err == nil) != ok || err != nil && !errdefs.IsInvalidParameter(err) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestEndpointMAC(t *testing.T) {
	ip := netip.MustParseAddr("172.17.0.5")
	cases := []struct {
		ep   network.EndpointSettings
		want string
	}{
		{network.EndpointSettings{}, ""},
		{network.EndpointSettings{IPAddress: ip}, "02:42:ac:11:00:05"},
		{network.EndpointSettings{IPAddress: ip, MacAddress: mustMAC(t, "92:d0:c6:0a:29:33")}, "92:d0:c6:0a:29:33"},
		{network.EndpointSettings{MacAddress: mustMAC(t, "92:d0:c6:0a:29:33")}, "92:d0:c6:0a:29:33"},
	}
	for _, c := range cases {
		if got := endpointMAC(&c.ep).String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.ep, got, c.want)
		}
		if got := withMAC(&c.ep).MacAddress.String(); got != c.want {
			t.Errorf("withMAC %+v: %q", c.ep, got)
		}
	}
}

func TestMACWithoutNetNS(t *testing.T) {
	cfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		"host": {MacAddress: mustMAC(t, "92:d0:c6:0a:29:33")}, "none": {}}}
	if err := macWithoutNetNS(cfg, "host"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("host with a MAC: %v", err)
	}
	if err := macWithoutNetNS(cfg, "none"); err != nil {
		t.Errorf("none without a MAC: %v", err)
	}
	if err := macWithoutNetNS(nil, "host"); err != nil {
		t.Errorf("no config: %v", err)
	}
}

func TestEndpointConfigKeepsMAC(t *testing.T) {
	mac := mustMAC(t, "92:d0:c6:0a:29:33")
	ep := endpointConfig(&network.EndpointSettings{MacAddress: mac, IPAddress: netip.MustParseAddr("10.0.0.2"), EndpointID: "x"})
	if ep.MacAddress.String() != mac.String() || ep.IPAddress.IsValid() || ep.EndpointID != "" {
		t.Errorf("endpointConfig: %+v", ep)
	}
}

func TestConfiguredMACDropsDerived(t *testing.T) {
	ip := netip.MustParseAddr("172.17.0.2")
	derived := &network.EndpointSettings{IPAddress: ip, MacAddress: mustMAC(t, "02:42:ac:11:00:02")}
	if got := endpointConfig(derived).MacAddress; len(got) != 0 {
		t.Errorf("a derived MAC of an old record is kept: %s", got)
	}
	asked := &network.EndpointSettings{IPAddress: ip, MacAddress: mustMAC(t, "92:d0:c6:0a:29:33")}
	if got := endpointConfig(asked).MacAddress.String(); got != "92:d0:c6:0a:29:33" {
		t.Errorf("asked-for MAC: %q", got)
	}
}
