package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// updateParentHosts points the /etc/hosts entries of running containers
// that link to c at c's new address. Docker does this when a link target
// starts again (libnetwork's "parent updates"): the lines whose first name
// is the link's alias get the new address; nothing else changes.
func (d *Daemon) updateParentHosts(ctx context.Context, c *ctr.Container) {
	for _, p := range d.containers.List() {
		if p.ID == c.ID || !p.State.Running() || p.HostsPath == "" {
			continue
		}
		for _, l := range p.HostConfig.Links {
			name, alias := parseLink(l)
			t, err := d.containers.Get(name)
			if err != nil || t.ID != c.ID {
				continue
			}
			if ip, ok := sharedIP(p, c); ok {
				logErr(ctx, updateHostsIP(p.HostsPath, alias, ip), "update the hosts file of a linking container")
			}
		}
	}
}

// updateHostsIP rewrites, in place (the file is bind-mounted into the
// container), the address of every line whose first name is name or
// starts with "name.".
func updateHostsIP(path, name, ip string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read hosts: %w", err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, line := range lines {
		addr, rest, ok := strings.Cut(line, "\t")
		first := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
		if ok && addr != "" && !strings.HasPrefix(addr, "#") && len(first) > 0 &&
			(first[0] == name || strings.HasPrefix(first[0], name+".")) {
			lines[i] = ip + "\t" + rest
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	return nil
}
