package daemon

import (
	"strings"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// onNetwork is docker ps's network= filter: c is configured for a network
// named ref, or whose ID starts with ref (moby's daemon/list.go rule).
// host and none count as the networks of those modes.
func (d *Daemon) onNetwork(c *ctr.Container, ref string) bool {
	for name, id := range d.containerNetworkIDs(c) {
		if name == ref || strings.HasPrefix(id, ref) {
			return true
		}
	}
	return false
}

// containerNetworkIDs maps the names of c's networks to their IDs.
func (d *Daemon) containerNetworkIDs(c *ctr.Container) map[string]string {
	out := map[string]string{}
	if mode := c.HostConfig.NetworkMode; mode.IsHost() || mode.IsNone() {
		out[string(mode)] = d.netID(string(mode))
		return out
	}
	for _, name := range containerNetworks(c) {
		id := ""
		if c.Network != nil && c.Network.Networks[name] != nil {
			id = c.Network.Networks[name].NetworkID
		}
		if id == "" && d.net != nil {
			if r, err := d.net.lookup(name); err == nil {
				id = r.ID
			}
		}
		out[name] = id
	}
	return out
}
