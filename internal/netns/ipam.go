package netns

import (
	"net"
	"net/netip"
	"sync"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Pool hands out the addresses of one network's subnet. The network and
// broadcast addresses and the gateway are never handed out. Pool is safe
// for concurrent use.
type Pool struct {
	subnet  netip.Prefix
	ipRange netip.Prefix
	gateway netip.Addr
	mu      sync.Mutex
	used    map[netip.Addr]bool
	next    netip.Addr
}

// NewPool returns the pool of subnet, IPv4 or IPv6. An invalid gateway
// picks the subnet's first address; an invalid ipRange means the whole
// subnet.
func NewPool(subnet netip.Prefix, gateway netip.Addr, ipRange netip.Prefix) (*Pool, error) {
	subnet = subnet.Masked()
	if err := checkSubnet(subnet); err != nil {
		return nil, err
	}
	if !gateway.IsValid() {
		gateway = subnet.Addr().Next()
	}
	if !subnet.Contains(gateway) {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "no matching subnet for gateway %s", gateway)
	}
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid ip range %s: not within subnet %s", ipRange, subnet)
	}
	return &Pool{subnet: subnet, ipRange: ipRange, gateway: gateway, used: map[netip.Addr]bool{}, next: ipRange.Addr()}, nil
}

// Subnet is the pool's subnet.
func (p *Pool) Subnet() netip.Prefix { return p.subnet }

// Gateway is the subnet's gateway address.
func (p *Pool) Gateway() netip.Addr { return p.gateway }

// Allocate reserves want, or when want is invalid the next free address
// of the range (round robin, as Docker's IPAM does).
func (p *Pool) Allocate(want netip.Addr) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if want.IsValid() {
		if !p.subnet.Contains(want) || !p.assignable(want) {
			return netip.Addr{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid address %s: not assignable in subnet %s", want, p.subnet)
		}
		if p.used[want] {
			return netip.Addr{}, errdefs.Errorf(errdefs.Conflict, "Address already in use: %s", want)
		}
		p.used[want] = true
		return want, nil
	}
	a := p.next
	// Each step finds a free address or passes a used or reserved one
	// (at most three reserved: network, broadcast, gateway), so this
	// bound visits the whole range when it is full, even for IPv6.
	for range len(p.used) + 4 {
		a = a.Next()
		if !p.ipRange.Contains(a) {
			a = p.ipRange.Addr()
		}
		if p.assignable(a) && !p.used[a] {
			p.used[a], p.next = true, a
			return a, nil
		}
	}
	return netip.Addr{}, errdefs.Errorf(errdefs.Unavailable, "no available %s addresses on this network's address pools: %s", family(p.subnet), p.subnet)
}

// checkSubnet accepts an IPv4 subnet of /30 or larger or an IPv6 one of
// /126 or larger: room for the gateway and at least one container.
func checkSubnet(subnet netip.Prefix) error {
	a := subnet.Addr()
	switch {
	case a.Is4() && subnet.Bits() <= 30, a.Is6() && !a.Is4In6() && subnet.Bits() <= 126:
		return nil
	case a.Is6():
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid subnet %s: an IPv6 subnet of /126 or larger is required", subnet)
	}
	return errdefs.Errorf(errdefs.InvalidParameter, "invalid subnet %s: an IPv4 subnet of /30 or larger is required", subnet)
}

func family(p netip.Prefix) string {
	if p.Addr().Is6() {
		return "IPv6"
	}
	return "IPv4"
}

// Release returns addr to the pool.
func (p *Pool) Release(addr netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, addr)
}

// InUse reports how many addresses are allocated.
func (p *Pool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}

// assignable excludes the gateway, the network address (IPv6's
// subnet-router anycast) and, for IPv4, the broadcast address.
func (p *Pool) assignable(a netip.Addr) bool {
	return a != p.gateway && a != p.subnet.Addr() && (a.Is6() || a != broadcast(p.subnet))
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// MACFor derives a container's MAC address from its IPv4 address, as
// Docker does (02:42 followed by the address); for an IPv6 address, its
// last four bytes.
func MACFor(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x42, b[12], b[13], b[14], b[15]}
}
