package daemon

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

var _ api.NetworkBackend = (*Daemon)(nil)

// NetworkList implements api.NetworkBackend.
func (d *Daemon) NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	if d.net == nil {
		return nil, nil
	}
	dangling, hasDangling, err := f.Bool("dangling")
	if err != nil {
		return nil, err
	}
	var out []network.Summary
	for _, r := range d.net.list() {
		if !matchNetwork(f, r) || hasDangling && dangling != (len(d.networkUsers(r)) == 0) {
			continue
		}
		out = append(out, network.Summary{Network: d.networkWire(r)})
	}
	return out, nil
}

func matchNetwork(f filters.Args, r *netRecord) bool {
	typ := "custom"
	if r.predefined() {
		typ = "builtin"
	}
	return anyOrMatch(f["driver"], func(v string) bool { return v == r.Driver }) &&
		anyOrMatch(f["id"], func(v string) bool { return strings.HasPrefix(r.ID, v) }) &&
		anyOrMatch(f["name"], func(v string) bool { return strings.Contains(r.Name, v) }) &&
		anyOrMatch(f["scope"], func(v string) bool { return v == "local" }) &&
		anyOrMatch(f["type"], func(v string) bool { return v == typ }) &&
		f.MatchLabels("label", r.Labels)
}

func anyOrMatch(vals []string, match func(string) bool) bool {
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		if match(v) {
			return true
		}
	}
	return false
}

// networkWire renders r in the API's shape.
func (d *Daemon) networkWire(r *netRecord) network.Network {
	n := network.Network{Name: r.Name, ID: r.ID, Created: r.Created, Scope: "local", Driver: r.Driver,
		EnableIPv4: r.pool != nil, Internal: r.Internal, Attachable: r.Attachable,
		IPAM:    network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
		Options: nonNilMap(r.Options), Labels: nonNilMap(r.Labels)}
	if r.pool != nil {
		n.IPAM.Config = []network.IPAMConfig{{Subnet: r.Subnet, Gateway: r.Gateway, IPRange: r.IPRange}}
	}
	if r.pool6 != nil {
		n.EnableIPv6 = true
		n.IPAM.Config = append(n.IPAM.Config, network.IPAMConfig{Subnet: r.Subnet6, Gateway: r.Gateway6, IPRange: r.IPRange6})
	}
	return n
}

// NetworkInspect implements api.NetworkBackend.
func (d *Daemon) NetworkInspect(ctx context.Context, name string) (network.Inspect, error) {
	if d.net == nil {
		return network.Inspect{}, errdefs.Errorf(errdefs.NotFound, "network %s not found", name)
	}
	r, err := d.net.lookup(name)
	if err != nil {
		return network.Inspect{}, err
	}
	res := network.Inspect{Network: d.networkWire(r), Containers: map[string]network.EndpointResource{}}
	for _, c := range d.containers.List() {
		if c.Network == nil || !c.State.Running() {
			continue
		}
		if ep := c.Network.Networks[r.Name]; ep != nil && ep.IPAddress.IsValid() {
			res.Containers[c.ID] = network.EndpointResource{Name: c.Name, EndpointID: ep.EndpointID, MacAddress: endpointMAC(ep),
				IPv4Address: netip.PrefixFrom(ep.IPAddress, ep.IPPrefixLen), IPv6Address: endpointIPv6(ep)}
		}
	}
	return res, nil
}

// NetworkCreate implements api.NetworkBackend.
func (d *Daemon) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if d.net == nil || d.net.sb == nil {
		return network.CreateResponse{}, errdefs.Unavailable(d.netErr())
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return network.CreateResponse{}, errdefs.Errorf(errdefs.NotFound, "plugin %q not found", req.Driver)
	}
	if _, err := d.net.lookup(req.Name); err == nil {
		return network.CreateResponse{}, errdefs.Errorf(errdefs.Conflict, "network with name %s already exists", req.Name)
	}
	if req.EnableIPv4 != nil && !*req.EnableIPv4 {
		return network.CreateResponse{}, errdefs.Errorf(errdefs.InvalidParameter, "IPv6-only networks are not supported: EnableIPv4 cannot be false")
	}
	r := &netRecord{ID: randomID(), Name: req.Name, Driver: "bridge", Created: time.Now().UTC(), Internal: req.Internal,
		Attachable: req.Attachable, Labels: req.Labels, Options: req.Options, EnableIPv6: req.EnableIPv6 != nil && *req.EnableIPv6}
	r.Bridge = "br-" + r.ID[:12]
	if err := d.pickSubnets(r, req.IPAM); err != nil {
		return network.CreateResponse{}, err
	}
	if err := d.bringUp(ctx, r); err != nil {
		return network.CreateResponse{}, err
	}
	if err := d.saveNetwork(r); err != nil {
		d.dropNetwork(ctx, r)
		return network.CreateResponse{}, err
	}
	d.networkEvent(r, "create", nil)
	return network.CreateResponse{ID: r.ID}, nil
}

// pickSubnet takes the request's IPv4 IPAM config, or the first free /16
// of 172.18-31, then a /20 of 192.168, as Docker's default pools.
func (d *Daemon) pickSubnet(r *netRecord, cfg *network.IPAMConfig) error {
	if cfg != nil {
		r.Subnet, r.Gateway, r.IPRange = cfg.Subnet, cfg.Gateway, cfg.IPRange
		if !r.Subnet.IsValid() {
			return errdefs.Errorf(errdefs.InvalidParameter, "a subnet is required with an IPAM config")
		}
		if other := d.overlapping(r.Subnet); other != "" {
			return errdefs.Errorf(errdefs.Forbidden, "invalid pool request: Pool overlaps with other one on this address space (network %s)", other)
		}
		return nil
	}
	for _, p := range candidatePools() {
		if d.overlapping(p) == "" {
			r.Subnet = p
			return nil
		}
	}
	return errdefs.Errorf(errdefs.Unavailable, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
}

func candidatePools() []netip.Prefix {
	var out []netip.Prefix
	for b := 18; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	for c := 0; c < 256; c += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return out
}

// overlapping names the network whose subnet overlaps p, if any.
func (d *Daemon) overlapping(p netip.Prefix) string {
	for _, r := range d.net.list() {
		if r.pool != nil && r.Subnet.Overlaps(p) || r.pool6 != nil && r.Subnet6.Overlaps(p) {
			return r.Name
		}
	}
	return ""
}

func (d *Daemon) networkEvent(r *netRecord, action string, extra map[string]string) {
	attrs := map[string]string{"name": r.Name, "type": r.Driver}
	for k, v := range extra {
		attrs[k] = v
	}
	d.events.Publish(events.Event{Type: "network", Action: action, ID: r.ID, Attributes: attrs})
}
