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

// NewPool returns the pool of subnet. An invalid gateway picks the
// subnet's first address; an invalid ipRange means the whole subnet.
func NewPool(subnet netip.Prefix, gateway netip.Addr, ipRange netip.Prefix) (*Pool, error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid subnet %s: an IPv4 subnet of /30 or larger is required", subnet)
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
	for range 1 << (32 - p.ipRange.Bits()) {
		a = a.Next()
		if !p.ipRange.Contains(a) {
			a = p.ipRange.Addr()
		}
		if p.assignable(a) && !p.used[a] {
			p.used[a], p.next = true, a
			return a, nil
		}
	}
	return netip.Addr{}, errdefs.Errorf(errdefs.Unavailable, "no available IPv4 addresses on this network's address pools: %s", p.subnet)
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

func (p *Pool) assignable(a netip.Addr) bool {
	return a != p.gateway && a != p.subnet.Addr() && a != broadcast(p.subnet)
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// MACFor derives a container's MAC address from its IPv4 address, as
// Docker does (02:42 followed by the address).
func MACFor(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}
