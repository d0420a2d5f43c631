package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// The default network, as Docker sets it up.
const (
	defaultNetwork = "bridge"
	defaultBridge  = "docker0"
	defaultSubnet  = "172.17.0.0/16"
)

// netRecord is one Docker network: a bridge in the sandbox and its IPAM.
// host and none are listed but have neither.
type netRecord struct {
	ID         string
	Name       string
	Driver     string
	Bridge     string
	Created    time.Time
	Subnet     netip.Prefix
	Gateway    netip.Addr
	IPRange    netip.Prefix
	Internal   bool
	Attachable bool
	Labels     map[string]string
	Options    map[string]string
	// EnableIPv6 networks also have an IPv6 subnet (user-defined only).
	EnableIPv6 bool `json:",omitempty"`
	Subnet6    netip.Prefix
	Gateway6   netip.Addr
	IPRange6   netip.Prefix
	pool       *netns.Pool
	pool6      *netns.Pool      // nil without IPv6
	dns        *netns.DNSServer // user-defined networks only
}

// predefined reports whether the network is one the daemon made itself.
func (r *netRecord) predefined() bool {
	return r.Name == defaultNetwork || r.Name == "host" || r.Name == "none"
}

// networks is the daemon's network state. sb is nil when the sandbox could
// not be set up; err then says why.
type networks struct {
	sb     *netns.Sandbox
	err    error
	dir    string // <data-root>/networks
	mu     sync.Mutex
	byID   map[string]*netRecord
	ports  sync.Map // container id -> *netns.Published
	ifaces sync.Map // container id + "/" + network id -> interface name
}

// openNetworks creates the network sandbox, the default bridge network and
// the stored user-defined networks. Without a sandbox, --network none,
// host and container:<id> still work; other networks refuse to start.
func (d *Daemon) openNetworks(ctx context.Context) {
	d.net = &networks{byID: map[string]*netRecord{}, dir: filepath.Join(d.cfg.DataRoot, "networks")}
	for _, name := range []string{"host", "none"} {
		d.net.byID[d.netID(name)] = &netRecord{ID: d.netID(name), Name: name, Driver: map[string]string{"host": "host", "none": "null"}[name], Created: time.Now().UTC()}
	}
	sb, err := netns.OpenSandbox(ctx, netns.SandboxOpt{Root: filepath.Join(d.cfg.ExecRoot, "net"), AllowHostLoopback: d.cfg.AllowHostLoopback})
	if err == nil {
		d.net.sb = sb
		err = d.addDefaultNetwork(ctx)
	}
	if err != nil {
		d.net.err = err
		log.G(ctx).WithError(err).Error("container networking unavailable: only --network none, host and container:<id> work")
		return
	}
	d.loadNetworks(ctx)
}

func (d *Daemon) netID(name string) string {
	sum := sha256.Sum256([]byte(d.id + "/network/" + name))
	return hex.EncodeToString(sum[:])
}

func (d *Daemon) addDefaultNetwork(ctx context.Context) error {
	r := &netRecord{ID: d.netID(defaultNetwork), Name: defaultNetwork, Driver: "bridge", Bridge: defaultBridge,
		Created: time.Now().UTC(), Subnet: netip.MustParsePrefix(defaultSubnet),
		Options: map[string]string{"com.docker.network.bridge.default_bridge": "true", "com.docker.network.driver.mtu": "65520"}}
	return d.bringUp(ctx, r)
}

// bringUp makes r's pool and bridge.
func (d *Daemon) bringUp(ctx context.Context, r *netRecord) error {
	pool, err := netns.NewPool(r.Subnet, r.Gateway, r.IPRange)
	if err != nil {
		return err
	}
	r.pool, r.Gateway = pool, pool.Gateway()
	gw := netip.PrefixFrom(pool.Gateway(), pool.Subnet().Bits())
	if err := d.net.sb.EnsureBridge(ctx, r.Bridge, gw, !r.Internal); err != nil {
		return err
	}
	err = d.bringUpIPv6(ctx, r)
	if err == nil {
		err = d.startDNS(ctx, r)
	}
	if err != nil {
		logErr(ctx, d.net.sb.RemoveBridge(ctx, r.Bridge, r.Subnet), "remove bridge")
		return err
	}
	d.net.mu.Lock()
	d.net.byID[r.ID] = r
	d.net.mu.Unlock()
	return nil
}

// closeNetworks stops slirp4netns and releases the sandbox.
func (d *Daemon) closeNetworks() {
	if d.net != nil && d.net.sb != nil {
		_ = d.net.sb.Close()
	}
}

// ownNetNS reports whether the container gets a namespace of its own on
// the sandbox's bridges (default, bridge or a user-defined network).
func ownNetNS(mode container.NetworkMode) bool {
	return !mode.IsNone() && !mode.IsHost() && !mode.IsContainer()
}

// usesBridge reports whether the mode is the default network.
func usesBridge(mode container.NetworkMode) bool {
	return mode == "" || mode == "default" || mode == defaultNetwork
}

// lookup finds a network by full ID, name or unique ID prefix.
func (n *networks) lookup(ref string) (*netRecord, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r, ok := n.byID[ref]; ok {
		return r, nil
	}
	var found []*netRecord
	for _, r := range n.byID {
		if r.Name == ref {
			return r, nil
		}
		if strings.HasPrefix(r.ID, ref) {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 1 && ref != "":
		return found[0], nil
	case len(found) > 1:
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
	}
	return nil, errdefs.Errorf(errdefs.NotFound, "network %s not found", ref)
}

// list returns the networks sorted by name.
func (n *networks) list() []*netRecord {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*netRecord, 0, len(n.byID))
	for _, r := range n.byID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// netnsPath is the namespace a container with its own network joins.
func (d *Daemon) netnsPath(id string) (string, error) {
	if d.net == nil || d.net.sb == nil {
		return "", fmt.Errorf("container networking is unavailable: %w (use --network none or host)", d.netErr())
	}
	return d.net.sb.NetNSPath(id), nil
}

func (d *Daemon) netErr() error {
	if d.net != nil && d.net.err != nil {
		return d.net.err
	}
	return errdefs.Errorf(errdefs.Unavailable, "no network sandbox")
}

// containerNetworks returns the names of the networks c is configured
// for, sorted: the first non-internal one provides the default route.
func containerNetworks(c *ctr.Container) []string {
	var names []string
	if c.Network != nil {
		for name := range c.Network.Networks {
			names = append(names, name)
		}
	}
	if c.Network == nil && usesBridge(c.HostConfig.NetworkMode) { // a record from before networking
		names = []string{defaultNetwork}
	}
	sort.Strings(names)
	return names
}

// initialNetworks is a new container's network configuration: the network
// its mode names, with the request's endpoint settings for it.
func (d *Daemon) initialNetworks(mode container.NetworkMode, cfg *network.NetworkingConfig) (*container.NetworkSettings, error) {
	name := string(mode)
	if usesBridge(mode) {
		name = defaultNetwork
	}
	if !ownNetNS(mode) {
		return nil, macWithoutNetNS(cfg, name)
	}
	// As dockerd, a network that does not exist fails the start, not the
	// create: the CLI takes any 404 from create for a missing image.
	nr := &netRecord{Name: name}
	if d.net != nil {
		found, err := d.net.lookup(name)
		switch {
		case err == nil:
			nr = found
		case !errdefs.IsNotFound(err):
			return nil, err
		}
	}
	var ep *network.EndpointSettings
	if cfg != nil {
		for _, key := range []string{name, nr.Name, string(mode)} { // the CLI may key "default"
			if ep == nil {
				ep = cfg.EndpointsConfig[key]
			}
		}
	}
	ep = endpointConfig(ep)
	ep.NetworkID = nr.ID
	if err := validateMAC(ep.MacAddress); err != nil {
		return nil, err
	}
	return &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{nr.Name: ep}}, nil
}

// warnLostNetwork says what a re-adopted container lost and drops its
// addresses from the record: its namespace
// belongs to the previous daemon's user namespace, which this daemon may
// not manage, and its bridge was in the previous sandbox.
func (d *Daemon) warnLostNetwork(ctx context.Context, c *ctr.Container) {
	if c.Network != nil && len(c.Network.Networks) > 0 && ownNetNS(c.HostConfig.NetworkMode) {
		log.G(ctx).WithField("container", c.ID).Warn("re-adopted container keeps running without its network and published ports; restart it to reconnect")
		// its old addresses are not this daemon's to release
		_, err := d.containers.Update(c.ID, func(c *ctr.Container) error { clearNetwork(c); return nil })
		logErr(ctx, err, "record lost network")
	}
}
