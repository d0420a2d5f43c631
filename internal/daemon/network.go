package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"

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
type netRecord struct {
	ID      string
	Name    string
	Driver  string
	Bridge  string
	Created time.Time
	pool    *netns.Pool
}

// networks is the daemon's network state. sb is nil when the sandbox could
// not be set up; err then says why.
type networks struct {
	sb     *netns.Sandbox
	err    error
	mu     sync.Mutex
	byName map[string]*netRecord
	ports  sync.Map // container id -> *netns.Published
}

// openNetworks creates the network sandbox and the default bridge network.
// A failure leaves containers with --network none, host and container:
// working; the default network then refuses to start containers.
func (d *Daemon) openNetworks(ctx context.Context) {
	d.net = &networks{byName: map[string]*netRecord{}}
	sb, err := netns.OpenSandbox(ctx, netns.SandboxOpt{Root: filepath.Join(d.cfg.ExecRoot, "net"), AllowHostLoopback: d.cfg.AllowHostLoopback})
	if err == nil {
		d.net.sb = sb
		err = d.addDefaultNetwork(ctx)
	}
	if err != nil {
		d.net.err = err
		log.G(ctx).WithError(err).Error("container networking unavailable: only --network none, host and container:<id> work")
	}
}

func (d *Daemon) addDefaultNetwork(ctx context.Context) error {
	pool, err := netns.NewPool(netip.MustParsePrefix(defaultSubnet), netip.Addr{}, netip.Prefix{})
	if err != nil {
		return err
	}
	gw := netip.PrefixFrom(pool.Gateway(), pool.Subnet().Bits())
	if err := d.net.sb.EnsureBridge(ctx, defaultBridge, gw); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(d.id + "/network/" + defaultNetwork))
	d.net.byName[defaultNetwork] = &netRecord{ID: hex.EncodeToString(sum[:]), Name: defaultNetwork, Driver: "bridge",
		Bridge: defaultBridge, Created: time.Now().UTC(), pool: pool}
	return nil
}

// closeNetworks stops slirp4netns and releases the sandbox.
func (d *Daemon) closeNetworks() {
	if d.net != nil && d.net.sb != nil {
		_ = d.net.sb.Close()
	}
}

// usesBridge reports whether the container gets its own namespace on the
// default network.
func usesBridge(mode container.NetworkMode) bool {
	return mode == "" || mode == "default" || mode == defaultNetwork
}

func (n *networks) get(name string) (*netRecord, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r, ok := n.byName[name]; ok {
		return r, nil
	}
	return nil, errdefs.Errorf(errdefs.NotFound, "network %s not found", name)
}

// netnsPath is the namespace a bridge-mode container joins.
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
