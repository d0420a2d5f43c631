package e2e

import (
	"strings"
	"testing"
)

// TestNetworkMissingFailsStartNotCreate: as with dockerd, a container on a
// network that does not exist is created, and its start fails with a
// 404 "network ... not found" (a 404 from create would make the CLI try
// to pull the image); once the network exists, it starts.
func TestNetworkMissingFailsStartNotCreate(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	r := d.Docker(t, "run", "--rm", "--network", "e2e-nonet", img, "true")
	if r.ExitCode != 125 || !strings.Contains(r.Stderr, "network e2e-nonet not found") || strings.Contains(r.Stderr, "Unable to find image") {
		t.Errorf("run on a missing network:\n%s", r)
	}
	id := strings.TrimSpace(d.DockerOK(t, "create", "--network", "e2e-nonet", img, "echo", "started"))
	t.Cleanup(func() { ctRemove(t, d, id) })
	d.DockerOK(t, "network", "create", "e2e-nonet")
	t.Cleanup(func() { d.Docker(t, "network", "rm", "e2e-nonet") })
	if out := d.DockerOK(t, "start", "-a", id); out != "started\n" {
		t.Errorf("start once the network exists printed %q", out)
	}
}
