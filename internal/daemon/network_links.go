package daemon

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// link is one resolved --link: the target and the address c reaches it at.
type link struct {
	alias  string
	target *ctr.Container
	ip     string
}

// links resolves c's --link entries ("name" or "name:alias") to running
// containers that share a network with c; the others are skipped.
func (d *Daemon) links(c *ctr.Container) []link {
	var out []link
	for _, l := range c.HostConfig.Links {
		name, alias := parseLink(l)
		t, err := d.containers.Get(name)
		if err != nil || !t.State.Running() {
			continue
		}
		if ip, ok := sharedIP(c, t); ok {
			out = append(out, link{alias: alias, target: t, ip: ip})
		}
	}
	return out
}

// parseLink splits a HostConfig.Links entry: "name", "name:alias" or
// Docker's stored form "/name:/parent/alias".
func parseLink(l string) (name, alias string) {
	name, alias, ok := strings.Cut(l, ":")
	name = strings.TrimPrefix(name, "/")
	if !ok {
		alias = name
	}
	return name, alias[strings.LastIndex(alias, "/")+1:]
}

// sharedIP is t's address on a network c is also on.
func sharedIP(c, t *ctr.Container) (string, bool) {
	if t.Network == nil || c.Network == nil {
		return "", false
	}
	for net, ep := range t.Network.Networks {
		if c.Network.Networks[net] != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String(), true
		}
	}
	return "", false
}

// writeLinkHosts appends "<ip> <alias> <hostname> <name>" per link to the
// container's /etc/hosts, as Docker's legacy links do.
func (d *Daemon) writeLinkHosts(c *ctr.Container) error {
	ls := d.links(c)
	if len(ls) == 0 {
		return nil
	}
	f, err := os.OpenFile(c.HostsPath, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	defer f.Close()
	for _, l := range ls {
		if _, err := fmt.Fprintf(f, "%s\t%s %s %s\n", l.ip, l.alias, l.target.Config.Hostname, l.target.Name); err != nil {
			return err
		}
	}
	return nil
}

// linkEnv is the legacy link environment: <ALIAS>_NAME, _PORT,
// _PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO] and _ENV_<var> of the target.
func (d *Daemon) linkEnv(c *ctr.Container) []string {
	var env []string
	for _, l := range d.links(c) {
		p := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(l.alias))
		env = append(env, fmt.Sprintf("%s_NAME=/%s/%s", p, c.Name, l.alias))
		ports := exposedPorts(l.target)
		for i, port := range ports {
			proto, num := string(port.Proto()), port.Num()
			url := fmt.Sprintf("%s://%s:%d", proto, l.ip, num)
			if i == 0 {
				env = append(env, fmt.Sprintf("%s_PORT=%s", p, url))
			}
			k := fmt.Sprintf("%s_PORT_%d_%s", p, num, strings.ToUpper(proto))
			env = append(env, k+"="+url, k+"_ADDR="+l.ip, fmt.Sprintf("%s_PORT=%d", k, num), k+"_PROTO="+proto)
		}
		for _, kv := range l.target.Config.Env {
			if k, _, _ := strings.Cut(kv, "="); k != "HOME" && k != "PATH" && k != "HOSTNAME" {
				env = append(env, p+"_ENV_"+kv)
			}
		}
	}
	return env
}

// exposedPorts are the target's exposed ports, lowest first.
func exposedPorts(t *ctr.Container) []network.Port {
	var out []network.Port
	for p := range t.Config.ExposedPorts {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Num() < out[j].Num() })
	return out
}
