package daemon

import (
	"net/netip"
	"testing"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

func TestMatchNetworkFilters(t *testing.T) {
	r := &netRecord{ID: "abcdef0123", Name: "appnet", Driver: "bridge", Labels: map[string]string{"team": "a"}}
	builtin := &netRecord{ID: "ffff", Name: "bridge", Driver: "bridge"}
	cases := []struct {
		f            filters.Args
		app, builtin bool
	}{
		{filters.Args{}, true, true},
		{filters.Args{"name": {"app"}}, true, false},
		{filters.Args{"id": {"abc"}}, true, false},
		{filters.Args{"type": {"custom"}}, true, false},
		{filters.Args{"type": {"builtin"}}, false, true},
		{filters.Args{"label": {"team=a"}}, true, false},
		{filters.Args{"driver": {"host"}}, false, false},
	}
	for _, c := range cases {
		if matchNetwork(c.f, r) != c.app || matchNetwork(c.f, builtin) != c.builtin {
			t.Errorf("%v: app %v builtin %v", c.f, matchNetwork(c.f, r), matchNetwork(c.f, builtin))
		}
	}
}

func TestCandidatePoolsAvoidDefault(t *testing.T) {
	pools := candidatePools()
	def := netip.MustParsePrefix(defaultSubnet)
	for _, p := range pools {
		if p.Overlaps(def) {
			t.Errorf("%s overlaps the default network", p)
		}
	}
	if pools[0].String() != "172.18.0.0/16" || pools[len(pools)-1].String() != "192.168.240.0/20" {
		t.Errorf("pools %s .. %s", pools[0], pools[len(pools)-1])
	}
}

func TestAnswersTo(t *testing.T) {
	c := &ctr.Container{ID: "0123456789abcdef0123", Name: "web"}
	for name, want := range map[string]bool{"web": true, "WEB": true, "0123456789ab": true, "0123": false, "api": true, "db": false} {
		if answersTo(c, []string{"api"}, name) != want {
			t.Errorf("%s: %v", name, !want)
		}
	}
}
