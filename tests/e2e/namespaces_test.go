package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestContainerNamespaceModes: --pid, --ipc and --uts with host and
// container:<id>, plus the namespaced knobs (sysctls, oom score).
func TestContainerNamespaceModes(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	target := ctRunD(t, d, img, "sleep", "300")
	if out := d.DockerOK(t, "run", "--rm", "--pid", "container:"+target, img, "ps", "-o", "comm"); !strings.Contains(out, "sleep") {
		t.Errorf("--pid container: does not see the target's sleep:\n%s", out)
	}
	if out := d.DockerOK(t, "run", "--rm", "--pid", "host", img, "cat", "/proc/1/comm"); strings.TrimSpace(out) == "cat" {
		t.Errorf("--pid host: pid 1 is the container's own process")
	}
	d.DockerOK(t, "run", "--rm", "--ipc", "host", img, "true")
	d.DockerOK(t, "run", "--rm", "--ipc", "container:"+target, img, "true")
	host, _ := os.Hostname()
	if out := strings.TrimSpace(d.DockerOK(t, "run", "--rm", "--uts", "host", img, "hostname")); out != host {
		t.Errorf("--uts host: hostname %q, want %q", out, host)
	}
	out := d.DockerOK(t, "run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--oom-score-adj", "500", img,
		"sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj")
	if strings.Fields(out)[0] != "1" || strings.Fields(out)[1] != "500" {
		t.Errorf("sysctl and oom score: %q", out)
	}
}

// TestContainerPrivileged: every capability of the user namespace and the
// host's devices (bound, so only those the user may open work).
func TestContainerPrivileged(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	out := d.DockerOK(t, "run", "--rm", "--privileged", img, "sh", "-c", "grep CapEff /proc/self/status; ls /dev")
	if !strings.Contains(out, "CapEff:\t000001ffffffffff") {
		t.Errorf("privileged capabilities:\n%s", out)
	}
	if _, err := os.Stat("/dev/net/tun"); err == nil && !strings.Contains(out, "net\n") {
		t.Errorf("privileged /dev lacks the host's /dev/net:\n%s", out)
	}
	if out := d.DockerOK(t, "run", "--rm", img, "ls", "/dev"); strings.Contains(out, "net\n") {
		t.Errorf("unprivileged /dev has host devices:\n%s", out)
	}
}
