package netns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/containerd/log"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/osthread"
)

// Slirp4netns's fixed addresses inside the sandbox.
const (
	SlirpMTU = 65520
	// SlirpDNS is slirp4netns's DNS forwarder, reachable from containers.
	SlirpDNS = "10.0.2.3"
	// SlirpHostGateway is slirp4netns's gateway: the host's addresses.
	SlirpHostGateway = "10.0.2.2"
	tapName          = "tap0"
)

// SandboxOpt configures OpenSandbox.
type SandboxOpt struct {
	// Root is a directory under the exec root that holds the namespace
	// handles (bind mounts).
	Root string
	// AllowHostLoopback lets containers reach the host's loopback through
	// slirp4netns's gateway 10.0.2.2.
	AllowHostLoopback bool
	// Slirp4netns is the program's path; empty means look it up in PATH.
	Slirp4netns string
}

// Sandbox is the network sandbox namespace: a bridge per Docker network,
// slirp4netns's tap0 for outbound traffic and the NAT rules between them.
// Container namespaces are separate, joined to the bridges by veth pairs.
// Its methods are safe for concurrent use.
type Sandbox struct {
	root   string
	path   string
	slirp  *slirp // nil when slirp4netns is unavailable
	reused bool   // an earlier daemon's sandbox

	nftMu    sync.Mutex
	nftReady bool // the table and base chains exist (nftDeclare)
}

// OpenSandbox opens the sandbox namespace. A daemon that joined the
// namespaces of its predecessor (see Run) finds the predecessor's sandbox
// still mounted and reuses it, with its bridges, rules and container
// namespaces (Reused reports it). Otherwise it creates a fresh one, after
// releasing the handles an earlier daemon left under Root: their
// interfaces and rules go with them.
func OpenSandbox(ctx context.Context, opt SandboxOpt) (_ *Sandbox, err error) {
	s := &Sandbox{root: opt.Root, path: filepath.Join(opt.Root, "sandbox")}
	if err := os.MkdirAll(s.nsDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox directory: %w", err)
	}
	s.reused = isNetNSHandle(s.path)
	if !s.reused {
		s.cleanStale(ctx)
		if err := newNetNS(s.path); err != nil {
			return nil, fmt.Errorf("create sandbox namespace: %w", err)
		}
		defer func() {
			if err != nil {
				_ = releaseNetNS(s.path)
			}
		}()
	}
	if err := s.configure(); err != nil {
		return nil, err
	}
	s.slirp, err = startSlirp(ctx, opt, s.path)
	if err != nil {
		log.G(ctx).WithError(err).Warn("containers have no outbound network: slirp4netns could not start (install the slirp4netns package)")
		s.slirp, err = nil, nil
	}
	return s, nil
}

// Path is the sandbox namespace's handle.
func (s *Sandbox) Path() string { return s.path }

// Outbound reports whether slirp4netns gives the sandbox outbound access.
func (s *Sandbox) Outbound() bool { return s.slirp != nil }

// Close stops slirp4netns. While container namespaces remain (containers
// that outlive the daemon), the sandbox stays with their bridges for the
// next daemon, which joins their mount namespace and reuses it; otherwise
// it is released.
func (s *Sandbox) Close() error {
	if s.slirp != nil {
		s.slirp.stop()
	}
	if len(s.NetNSIDs()) > 0 {
		return nil
	}
	return releaseNetNS(s.path)
}

func (s *Sandbox) nsDir() string { return filepath.Join(s.root, "c") }

// cleanStale releases the handles a previous daemon left behind.
func (s *Sandbox) cleanStale(ctx context.Context) {
	entries, _ := os.ReadDir(s.nsDir())
	for _, e := range entries {
		logStale(ctx, releaseNetNS(filepath.Join(s.nsDir(), e.Name())))
	}
	logStale(ctx, releaseNetNS(s.path))
}

func logStale(ctx context.Context, err error) {
	if err != nil {
		log.G(ctx).WithError(err).Debug("release stale network namespace")
	}
}

// configure brings up loopback and turns on forwarding in the sandbox.
func (s *Sandbox) configure() error {
	return inNetNS(s.path, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find sandbox loopback: %w", err)
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("bring up sandbox loopback: %w", err)
		}
		return writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
	})
}

// EnsureBridge creates (or keeps) the bridge name with the gateway
// address gw on subnet; with masquerade set, the subnet reaches the
// outside through tap0.
func (s *Sandbox) EnsureBridge(ctx context.Context, name string, gw netip.Prefix, masquerade bool) error {
	err := s.withHandle(func(h *netlink.Handle) error {
		link, err := h.LinkByName(name)
		if err != nil {
			br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: SlirpMTU}}
			if err := h.LinkAdd(br); err != nil {
				return fmt.Errorf("create bridge %s: %w", name, err)
			}
			link = br
		}
		addr := &netlink.Addr{IPNet: prefixNet(gw)}
		if err := h.AddrReplace(link, addr); err != nil {
			return fmt.Errorf("address bridge %s: %w", name, err)
		}
		return h.LinkSetUp(link)
	})
	if err != nil {
		return err
	}
	if err := s.isolate(name, !masquerade); err != nil {
		return err
	}
	if !masquerade {
		return nil
	}
	return s.addMasquerade(gw.Masked())
}

// RemoveBridge deletes the bridge and the subnet's masquerade rule.
func (s *Sandbox) RemoveBridge(ctx context.Context, name string, subnet netip.Prefix) error {
	err := s.withHandle(func(h *netlink.Handle) error {
		link, err := h.LinkByName(name)
		if err != nil {
			return nil
		}
		return h.LinkDel(link)
	})
	if err != nil {
		return fmt.Errorf("remove bridge %s: %w", name, err)
	}
	if err := s.unisolate(name); err != nil {
		return err
	}
	return s.removeMasquerade(subnet.Masked())
}

// withHandle runs fn with a netlink handle bound to the sandbox.
func (s *Sandbox) withHandle(fn func(h *netlink.Handle) error) error {
	return withHandleAt(s.path, fn)
}

// withHandleAt runs fn with a netlink handle in the namespace at path. The
// handle's sockets are made on a thread inside the namespace: netlink's own
// NewHandleAt switches a thread back and forth, and switching back to the
// host namespace is refused in a user namespace, which would leave a
// thread of the Go runtime in the wrong namespace.
func withHandleAt(path string, fn func(h *netlink.Handle) error) error {
	return inNetNS(path, func() error {
		h, err := netlink.NewHandle()
		if err != nil {
			return fmt.Errorf("netlink in %s: %w", path, err)
		}
		defer h.Close()
		return fn(h)
	})
}

// inNetNS runs fn on an OS thread switched into the namespace at path,
// which is discarded afterwards (osthread.Discard): the daemon may enter
// the sandbox but never re-enter the host namespace, which belongs to the
// initial user namespace.
func inNetNS(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer target.Close()
	osthread.Discard(func() {
		if err = netns.Set(target); err != nil {
			err = fmt.Errorf("enter network namespace: %w", err)
			return
		}
		err = fn()
	})
	return err
}

// newNetNS creates a network namespace held open by a bind mount at path.
func newNetNS(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	osthread.Discard(func() {
		if err = unix.Unshare(unix.CLONE_NEWNET); err != nil {
			err = fmt.Errorf("unshare network namespace: %w", err)
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		err = unix.Mount(self, path, "", unix.MS_BIND, "")
	})
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("bind network namespace: %w", err)
	}
	return nil
}

// releaseNetNS unmounts and removes a namespace handle; a missing one is
// not an error.
func releaseNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func writeSysctl(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set %s: %w", filepath.Base(path), err)
	}
	return nil
}
