package e2e

import (
	"strings"
	"testing"
)

// TestNetworkPsFilter checks docker ps --filter network=<name|id>.
func TestNetworkPsFilter(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	netID := strings.TrimSpace(d.DockerOK(t, "network", "create", "--subnet", "10.82.0.0/24", "filternet"))
	defer d.Docker(t, "network", "rm", "filternet")
	onNet := monRun(t, d, "--network", "filternet", "sleep 1000")
	onBridge := monRun(t, d, "sleep 1000")
	created := strings.TrimSpace(d.DockerOK(t, "create", "--network", "filternet", d.LoadBusybox(t), "true"))
	ps := func(args ...string) string {
		return strings.Join(strings.Fields(d.DockerOK(t, append([]string{"ps", "-q", "--no-trunc"}, args...)...)), " ")
	}
	if got := ps("--filter", "network=filternet"); got != onNet {
		t.Errorf("network=filternet: %q, want %q", got, onNet)
	}
	if got := ps("--filter", "network="+netID[:10]); got != onNet {
		t.Errorf("network=<id prefix>: %q, want %q", got, onNet)
	}
	if got := ps("--filter", "network=bridge"); got != onBridge {
		t.Errorf("network=bridge: %q, want %q", got, onBridge)
	}
	if got := ps("-a", "--filter", "network=filternet"); !strings.Contains(got, created) || !strings.Contains(got, onNet) || strings.Contains(got, onBridge) {
		t.Errorf("-a network=filternet: %q", got)
	}
	if got := ps("--filter", "network=nosuchnet"); got != "" {
		t.Errorf("network=nosuchnet: %q", got)
	}
}
