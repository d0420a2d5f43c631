package daemon

import (
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

func TestOnNetwork(t *testing.T) {
	d := &Daemon{id: "d1", net: &networks{byID: map[string]*netRecord{}}}
	bridge := &netRecord{ID: d.netID(defaultNetwork), Name: defaultNetwork}
	d.net.byID[bridge.ID] = bridge
	app := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
		"appnet": {NetworkID: "abc123"}, "other": {NetworkID: "fff999"}}}
	cases := []struct {
		name string
		c    *ctr.Container
		ref  string
		want bool
	}{
		{"by name", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "appnet"}, Network: app}, "appnet", true},
		{"second network", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "appnet"}, Network: app}, "other", true},
		{"by id prefix", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "appnet"}, Network: app}, "abc", true},
		{"name is not a prefix", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "appnet"}, Network: app}, "app", false},
		{"other network", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "appnet"}, Network: app}, "bridge", false},
		{"never started, default", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "default"}}, "bridge", true},
		{"never started, bridge id", &ctr.Container{HostConfig: &container.HostConfig{}}, bridge.ID[:6], true},
		{"host mode", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "host"}}, "host", true},
		{"host mode by id", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "host"}}, d.netID("host")[:8], true},
		{"none is not bridge", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "none"}}, "bridge", false},
		{"container mode", &ctr.Container{HostConfig: &container.HostConfig{NetworkMode: "container:x"}}, "bridge", false},
	}
	for _, c := range cases {
		if got := d.onNetwork(c.c, c.ref); got != c.want {
			t.Errorf("%s: onNetwork(%q) = %v", c.name, c.ref, got)
		}
	}
}
