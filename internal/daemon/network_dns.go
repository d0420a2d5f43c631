package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// startDNS runs the embedded DNS server of a user-defined network on its
// gateway address.
func (d *Daemon) startDNS(ctx context.Context, r *netRecord) error {
	if r.Name == defaultNetwork || r.pool == nil {
		return nil
	}
	srv, err := d.net.sb.ServeDNS(ctx, r.Gateway, d.resolverFor(r.Name), hostNameservers())
	if err != nil {
		return fmt.Errorf("start dns server of network %s: %w", r.Name, err)
	}
	r.dns = srv
	return nil
}

// resolverFor answers the names of the running containers on a network:
// name, short and full ID, network aliases.
func (d *Daemon) resolverFor(network string) netns.Resolver {
	return func(name string) []netip.Addr {
		var out []netip.Addr
		for _, c := range d.containers.List() {
			if !c.State.Running() || c.Network == nil {
				continue
			}
			ep := c.Network.Networks[network]
			if ep != nil && ep.IPAddress.IsValid() && answersTo(c, ep.Aliases, name) {
				out = append(out, ep.IPAddress)
				if ep.GlobalIPv6Address.IsValid() {
					out = append(out, ep.GlobalIPv6Address)
				}
			}
		}
		return out
	}
}

func answersTo(c *ctr.Container, aliases []string, name string) bool {
	if strings.EqualFold(c.Name, name) || c.ID == name || len(name) >= 12 && strings.HasPrefix(c.ID, name) {
		return true
	}
	for _, a := range aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// hostNameservers are the host's resolvers as "ip:53": the daemon forwards
// from the host namespace, so loopback resolvers are fine.
func hostNameservers() []string {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, net.JoinHostPort(f[1], "53"))
		}
	}
	return out
}

// embeddedResolvConf points the container at its first user-defined
// network's DNS server, keeping search and options; --dns keeps the
// servers the user named.
func (d *Daemon) embeddedResolvConf(c *ctr.Container) error {
	if len(c.HostConfig.DNS) > 0 || c.Network == nil {
		return nil
	}
	var gw netip.Addr
	for _, name := range containerNetworks(c) {
		if r, err := d.net.lookup(name); err == nil && r.dns != nil {
			gw = r.Gateway
			break
		}
	}
	if !gw.IsValid() {
		return nil
	}
	lines := []string{"nameserver " + gw.String()}
	for _, l := range strings.Split(resolvConf(c.HostConfig), "\n") {
		if l != "" && !strings.HasPrefix(l, "nameserver") {
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(c.ResolvConfPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write resolv.conf: %w", err)
	}
	return nil
}
