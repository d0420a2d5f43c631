package daemon

import (
	"context"
	"crypto/sha256"
	"net/netip"

	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// bringUpIPv6 makes the IPv6 pool of a network with EnableIPv6 and puts
// its gateway on the bridge.
func (d *Daemon) bringUpIPv6(ctx context.Context, r *netRecord) error {
	if !r.EnableIPv6 {
		return nil
	}
	pool, err := netns.NewPool(r.Subnet6, r.Gateway6, r.IPRange6)
	if err != nil {
		return err
	}
	r.pool6, r.Gateway6 = pool, pool.Gateway()
	return d.net.sb.EnsureBridgeIPv6(ctx, r.Bridge, netip.PrefixFrom(pool.Gateway(), pool.Subnet().Bits()))
}

// pickSubnets sorts the request's IPAM configs by family and picks both
// subnets. As Docker's ValidateIPAM, an IPv6 config is ignored while
// IPv6 is off.
func (d *Daemon) pickSubnets(r *netRecord, ipam *network.IPAM) error {
	var v4, v6 *network.IPAMConfig
	if ipam != nil {
		for i := range ipam.Config {
			cfg := &ipam.Config[i]
			slot := &v4
			if cfg.Subnet.Addr().Is6() {
				slot = &v6
			}
			if *slot != nil {
				return errdefs.Errorf(errdefs.InvalidParameter, "only one subnet per address family is supported, got a second: %s", cfg.Subnet)
			}
			*slot = cfg
		}
	}
	if err := d.pickSubnet(r, v4); err != nil {
		return err
	}
	if !r.EnableIPv6 {
		return nil
	}
	return d.pickSubnet6(r, v6)
}

// pickSubnet6 takes the request's IPv6 config, or the first free /64 of
// the daemon's unique local /48 (fdXX:XXXX:XXXX::/48 from its ID), as
// Docker 27 allocates IPv6 subnets from a ULA pool.
func (d *Daemon) pickSubnet6(r *netRecord, cfg *network.IPAMConfig) error {
	if cfg != nil {
		r.Subnet6, r.Gateway6, r.IPRange6 = cfg.Subnet, cfg.Gateway, cfg.IPRange
		if other := d.overlapping(r.Subnet6); other != "" {
			return errdefs.Errorf(errdefs.Forbidden, "invalid pool request: Pool overlaps with other one on this address space (network %s)", other)
		}
		return nil
	}
	for i := range 1 << 16 {
		if p := ula64(d.id, i); d.overlapping(p) == "" {
			r.Subnet6 = p
			return nil
		}
	}
	return errdefs.Errorf(errdefs.Unavailable, "could not find an available, non-overlapping IPv6 address pool to assign to the network")
}

// ula64 is the i-th /64 of the unique local /48 derived from seed.
func ula64(seed string, i int) netip.Prefix {
	h := sha256.Sum256([]byte(seed + "/ipv6"))
	var b [16]byte
	b[0] = 0xfd
	copy(b[1:6], h[:5])
	b[6], b[7] = byte(i>>8), byte(i)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// allocIPv6 reserves the container's IPv6 address on nr: the one the
// endpoint config asks for (--ip6), else the next free one. It returns
// the zero prefix for a network without IPv6.
func allocIPv6(nr *netRecord, cfg *network.EndpointSettings) (netip.Prefix, error) {
	var want netip.Addr
	if cfg != nil && cfg.IPAMConfig != nil {
		want = cfg.IPAMConfig.IPv6Address
	}
	if nr.pool6 == nil {
		if want.IsValid() {
			return netip.Prefix{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid endpoint settings: IPv6 address %s requested but network %s does not have IPv6 enabled", want, nr.Name)
		}
		return netip.Prefix{}, nil
	}
	ip, err := nr.pool6.Allocate(want)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip, nr.Subnet6.Bits()), nil
}

// setIPv6 records the interface's IPv6 address on the endpoint.
func setIPv6(ep *network.EndpointSettings, nr *netRecord, ifc netns.Interface) {
	if !ifc.Addr6.IsValid() {
		return
	}
	ep.GlobalIPv6Address, ep.GlobalIPv6PrefixLen, ep.IPv6Gateway = ifc.Addr6.Addr(), ifc.Addr6.Bits(), nr.Gateway6
}

// endpointIPv6 is the endpoint's IPv6 address with its prefix length, or
// the zero prefix.
func endpointIPv6(ep *network.EndpointSettings) netip.Prefix {
	if !ep.GlobalIPv6Address.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(ep.GlobalIPv6Address, ep.GlobalIPv6PrefixLen)
}
