package daemon

import (
	"net/netip"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

func TestPickSubnetsByFamily(t *testing.T) {
	d := &Daemon{id: "d1", net: &networks{byID: map[string]*netRecord{}}}
	v6 := network.IPAMConfig{Subnet: netip.MustParsePrefix("fd00:5::/64")}
	v4 := network.IPAMConfig{Subnet: netip.MustParsePrefix("10.5.0.0/24")}

	r := &netRecord{EnableIPv6: true}
	if err := d.pickSubnets(r, &network.IPAM{Config: []network.IPAMConfig{v6}}); err != nil {
		t.Fatal(err)
	}
	if r.Subnet.String() != "172.18.0.0/16" || r.Subnet6 != v6.Subnet {
		t.Errorf("only an IPv6 subnet given: v4 %s v6 %s", r.Subnet, r.Subnet6)
	}
	r = &netRecord{EnableIPv6: true}
	if err := d.pickSubnets(r, nil); err != nil {
		t.Fatal(err)
	}
	if b := r.Subnet6.Addr().As16(); b[0] != 0xfd || r.Subnet6.Bits() != 64 || r.Subnet6 != ula64("d1", 0) {
		t.Errorf("default IPv6 subnet %s", r.Subnet6)
	}
	r = &netRecord{}
	if err := d.pickSubnets(r, &network.IPAM{Config: []network.IPAMConfig{v4, v6}}); err != nil || r.Subnet != v4.Subnet || r.Subnet6.IsValid() {
		t.Errorf("IPv6 off: %v v4 %s v6 %s", err, r.Subnet, r.Subnet6)
	}
	r = &netRecord{EnableIPv6: true}
	if err := d.pickSubnets(r, &network.IPAM{Config: []network.IPAMConfig{v6, v6}}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("two IPv6 subnets: %v", err)
	}
}

func TestPickSubnet6SkipsUsed(t *testing.T) {
	d := &Daemon{id: "d1", net: &networks{byID: map[string]*netRecord{}}}
	pool, _ := netns.NewPool(ula64("d1", 0), netip.Addr{}, netip.Prefix{})
	d.net.byID["x"] = &netRecord{ID: "x", Name: "used", Subnet6: ula64("d1", 0), pool6: pool}
	r := &netRecord{EnableIPv6: true}
	if err := d.pickSubnet6(r, nil); err != nil || r.Subnet6 != ula64("d1", 1) {
		t.Errorf("next free /64: %s %v", r.Subnet6, err)
	}
	err := d.pickSubnet6(&netRecord{}, &network.IPAMConfig{Subnet: netip.MustParsePrefix(ula64("d1", 0).Addr().String() + "/80")})
	if !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("overlapping IPv6 subnet: %v", err)
	}
	if ula64("d1", 1) == ula64("d2", 1) {
		t.Error("two daemons share a ULA /48")
	}
}

func TestAllocAddrsIPv6(t *testing.T) {
	p4, _ := netns.NewPool(netip.MustParsePrefix("10.6.0.0/24"), netip.Addr{}, netip.Prefix{})
	p6, _ := netns.NewPool(netip.MustParsePrefix("fd00:6::/64"), netip.Addr{}, netip.Prefix{})
	nr := &netRecord{Name: "v6net", Subnet: p4.Subnet(), Subnet6: p6.Subnet(), pool: p4, pool6: p6, Gateway6: p6.Gateway()}
	ifc, err := allocAddrs(nr, nil)
	if err != nil || ifc.Addr.String() != "10.6.0.2/24" || ifc.Addr6.String() != "fd00:6::2/64" {
		t.Fatalf("alloc: %+v %v", ifc, err)
	}
	want := &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv6Address: netip.MustParseAddr("fd00:6::2")}}
	if _, err := allocAddrs(nr, want); !errdefs.IsConflict(err) || p4.InUse() != 1 {
		t.Errorf("taken IPv6 address: %v; IPv4 in use %d (the IPv4 address must be returned)", err, p4.InUse())
	}
	ep := &network.EndpointSettings{}
	setIPv6(ep, nr, ifc)
	if ep.GlobalIPv6Address.String() != "fd00:6::2" || ep.GlobalIPv6PrefixLen != 64 || ep.IPv6Gateway.String() != "fd00:6::1" || endpointIPv6(ep) != ifc.Addr6 {
		t.Errorf("endpoint: %+v", ep)
	}
	releaseAddrs(nr, ifc)
	if p4.InUse() != 0 || p6.InUse() != 0 {
		t.Errorf("after release: %d %d", p4.InUse(), p6.InUse())
	}
	v4only := &netRecord{Name: "v4net", Subnet: p4.Subnet(), pool: p4}
	if _, err := allocAddrs(v4only, want); !errdefs.IsInvalidParameter(err) || p4.InUse() != 0 {
		t.Errorf("--ip6 on a network without IPv6: %v (in use %d)", err, p4.InUse())
	}
}
