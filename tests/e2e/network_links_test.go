package e2e

import (
	"strings"
	"testing"
)

// TestNetworkLinkTargetRestart restarts a link target (it gets a new
// address) and checks that the running container linking to it sees the
// new address in /etc/hosts, as with Docker.
func TestNetworkLinkTargetRestart(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	db := monRun(t, d, "--name", "linkdb", "sleep 1000")
	oldIP := monInspect(t, d, db, "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	web := monRun(t, d, "--link", "linkdb:database", "sleep 1000")
	if hosts := d.DockerOK(t, "exec", web, "cat", "/etc/hosts"); !strings.Contains(hosts, oldIP+"\tdatabase") {
		t.Fatalf("no link entry for %s:\n%s", oldIP, hosts)
	}
	d.DockerOK(t, "restart", "-t", "0", db)
	newIP := monInspect(t, d, db, "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	if newIP == oldIP || newIP == "" {
		t.Fatalf("the target kept its address %q (want a new one to test the update)", newIP)
	}
	hosts := d.DockerOK(t, "exec", web, "cat", "/etc/hosts")
	if !strings.Contains(hosts, newIP+"\tdatabase") || strings.Contains(hosts, oldIP+"\tdatabase") {
		t.Errorf("after the target restarted (%s -> %s):\n%s", oldIP, newIP, hosts)
	}
	if out := d.DockerOK(t, "exec", web, "ping", "-c", "1", "-W", "3", "database"); !strings.Contains(out, newIP) {
		t.Errorf("ping database: %s", out)
	}
}
