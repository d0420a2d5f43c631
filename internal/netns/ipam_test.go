package netns

import (
	"net/netip"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func TestPoolAllocatesInOrderAndSkipsReserved(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("172.17.0.0/16"), netip.Addr{}, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway().String() != "172.17.0.1" {
		t.Fatalf("gateway %s", p.Gateway())
	}
	for _, want := range []string{"172.17.0.2", "172.17.0.3"} {
		if a, err := p.Allocate(netip.Addr{}); err != nil || a.String() != want {
			t.Fatalf("allocate: %s, %v; want %s", a, err, want)
		}
	}
	p.Release(netip.MustParseAddr("172.17.0.2"))
	if a, _ := p.Allocate(netip.Addr{}); a.String() != "172.17.0.4" {
		t.Fatalf("round robin: got %s", a)
	}
	if _, err := p.Allocate(netip.MustParseAddr("172.17.0.3")); !errdefs.IsConflict(err) {
		t.Fatalf("taken address: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("172.17.0.1")); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("gateway address: %v", err)
	}
}

func TestPoolExhaustsSmallSubnet(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.1.0.0/30"), netip.Addr{}, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := p.Allocate(netip.Addr{}); err != nil || a.String() != "10.1.0.2" {
		t.Fatalf("first: %s %v", a, err)
	}
	if a, err := p.Allocate(netip.Addr{}); err == nil {
		t.Fatalf("a /30 has one free address, got a second: %s", a)
	}
}

func TestPoolRangeAndValidation(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.2.0.0/16"), netip.MustParseAddr("10.2.0.254"), netip.MustParsePrefix("10.2.5.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Allocate(netip.Addr{}); a.String() != "10.2.5.1" {
		t.Fatalf("first in range: %s", a)
	}
	bad := []struct{ subnet, gw, rng string }{
		{"10.3.0.0/16", "10.4.0.1", ""},
		{"10.3.0.0/16", "", "10.4.0.0/24"},
		{"10.3.0.0/31", "", ""},
	}
	for _, b := range bad {
		var gw netip.Addr
		var rng netip.Prefix
		if b.gw != "" {
			gw = netip.MustParseAddr(b.gw)
		}
		if b.rng != "" {
			rng = netip.MustParsePrefix(b.rng)
		}
		if _, err := NewPool(netip.MustParsePrefix(b.subnet), gw, rng); !errdefs.IsInvalidParameter(err) {
			t.Errorf("%v: %v", b, err)
		}
	}
	if MACFor(netip.MustParseAddr("172.17.0.2")).String() != "02:42:ac:11:00:02" {
		t.Error("MAC derivation")
	}
}

func TestPoolIPv6(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("fd00:1:2:3::/64"), netip.Addr{}, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway().String() != "fd00:1:2:3::1" {
		t.Fatalf("gateway %s", p.Gateway())
	}
	for _, want := range []string{"fd00:1:2:3::2", "fd00:1:2:3::3"} {
		if a, err := p.Allocate(netip.Addr{}); err != nil || a.String() != want {
			t.Fatalf("allocate: %s, %v; want %s", a, err, want)
		}
	}
	if _, err := p.Allocate(netip.MustParseAddr("fd00:1:2:3::3")); !errdefs.IsConflict(err) {
		t.Fatalf("taken address: %v", err)
	}
	if a, err := p.Allocate(netip.MustParseAddr("fd00:1:2:3:ffff:ffff:ffff:ffff")); err != nil || !a.Is6() {
		t.Fatalf("last address of a /64 (no broadcast in IPv6): %s %v", a, err)
	}
	small, err := NewPool(netip.MustParsePrefix("fd00::/126"), netip.Addr{}, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fd00::2", "fd00::3"} {
		if a, err := small.Allocate(netip.Addr{}); err != nil || a.String() != want {
			t.Fatalf("/126: %s %v, want %s", a, err, want)
		}
	}
	if a, err := small.Allocate(netip.Addr{}); err == nil || errdefs.IsInvalidParameter(err) {
		t.Fatalf("a /126 has two free addresses, got a third: %s %v", a, err)
	}
	for _, bad := range []string{"fd00::/127", "::ffff:10.0.0.0/120"} {
		if _, err := NewPool(netip.MustParsePrefix(bad), netip.Addr{}, netip.Prefix{}); !errdefs.IsInvalidParameter(err) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if MACFor(netip.MustParseAddr("fd00::ac11:2")).String() != "02:42:ac:11:00:02" {
		t.Errorf("MAC from IPv6: %s", MACFor(netip.MustParseAddr("fd00::ac11:2")))
	}
}
