package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// cgDaemon starts a daemon of its own whose containers get cgroups: the
// harness (as root) prepares a cgroup subtree owned by the daemon's user,
// as an administrator would, and passes it as --cgroup-parent.
func cgDaemon(t *testing.T) (*harness.Daemon, harness.CgroupTree) {
	t.Helper()
	tree := harness.CgroupParent(t)
	return ownDaemon(t, "--cgroup-parent", tree.Parent), tree
}

func cgRead(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestCgroupsInfo(t *testing.T) {
	d, _ := cgDaemon(t)
	if got := strings.TrimSpace(d.DockerOK(t, "info", "--format", "{{.CgroupDriver}} {{.CgroupVersion}}")); got != "cgroupfs 1" {
		t.Errorf("docker info cgroups = %q, want cgroupfs 1", got)
	}
	if w := d.DockerOK(t, "info", "--format", "{{json .Warnings}}"); strings.Contains(w, "No memory limit support") || strings.Contains(w, "No pids limit support") {
		t.Errorf("docker info still warns about memory/pids limits: %s", w)
	}
}

// TestCgroupsMemoryOOM: --memory is enforced; a process allocating more is
// killed by the kernel, inspect says OOMKilled and an oom event precedes die.
func TestCgroupsMemoryOOM(t *testing.T) {
	d, tree := cgDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	since := time.Now().Add(-time.Second).Unix()
	r := d.Docker(t, "run", "--name", "oom", "--memory", "32m", img, "sh", "-c", `x=a; while :; do x="$x$x"; done`)
	if r.ExitCode != 137 {
		t.Fatalf("memory hog: want exit 137 (SIGKILL), got:\n%s", r)
	}
	if got := monInspect(t, d, "oom", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}"); got != "true 137 33554432" {
		t.Errorf("inspect = %q, want true 137 33554432", got)
	}
	ev := d.DockerOK(t, "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "container=oom", "--format", "{{.Action}}")
	if acts := strings.Fields(ev); !strings.Contains(strings.Join(acts, " "), "oom die") {
		t.Errorf("events %q, want oom before die", acts)
	}
	// A child killed for OOM while the container goes on: reported at once.
	survivor := monRun(t, d, "--memory", "32m", `(x=a; while :; do x="$x$x"; done); sleep 1000`)
	harness.Poll(t, 20*time.Second, "OOMKilled on a running container", func() (bool, string) {
		s := monInspect(t, d, survivor, "{{.State.OOMKilled}} {{.State.Running}}")
		return s == "true true", s
	})
	ev = d.DockerOK(t, "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "container="+survivor, "--filter", "event=oom", "--format", "{{.Action}}")
	if strings.TrimSpace(ev) == "" {
		t.Errorf("no oom event for the running container %s", survivor)
	}
	id := monRun(t, d, "--memory", "32m", "sleep 1000")
	if lim := cgRead(t, tree.ContainerDir("memory", id), "memory.limit_in_bytes"); lim != "33554432" {
		t.Errorf("memory.limit_in_bytes = %s", lim)
	}
	out := d.DockerOK(t, "stats", "--no-stream", "--format", "{{.MemUsage}}", id)
	if !strings.Contains(out, "/ 32MiB") {
		t.Errorf("docker stats MemUsage = %q, want the 32MiB limit", out)
	}
	d.DockerOK(t, "update", "--memory", "48m", id)
	if lim := cgRead(t, tree.ContainerDir("memory", id), "memory.limit_in_bytes"); lim != "50331648" {
		t.Errorf("after update, memory.limit_in_bytes = %s", lim)
	}
}

// TestCgroupsPidsLimit: --pids-limit stops a fork loop; stats reports the
// container's task count from the cgroup; update raises the limit.
func TestCgroupsPidsLimit(t *testing.T) {
	d, tree := cgDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	r := d.Docker(t, "run", "--pids-limit", "8", img, "sh", "-c", "for i in $(seq 30); do sleep 1000 & done; echo forked all")
	if r.ExitCode == 0 || strings.Contains(r.Stdout, "forked all") || !strings.Contains(r.Stderr+r.Stdout, "can't fork") {
		t.Errorf("fork loop under --pids-limit 8: want it stopped by can't fork, got:\n%s", r)
	}
	id := monRun(t, d, "--pids-limit", "8", "sleep 1000 & sleep 1000")
	if max := cgRead(t, tree.ContainerDir("pids", id), "pids.max"); max != "8" {
		t.Errorf("pids.max = %s", max)
	}
	harness.Poll(t, 10*time.Second, "docker stats to count the 2 sleeps", func() (bool, string) {
		out := strings.TrimSpace(d.DockerOK(t, "stats", "--no-stream", "--format", "{{.PIDs}}", id))
		return out == "2", out
	})
	d.DockerOK(t, "update", "--pids-limit", "50", id)
	if max := cgRead(t, tree.ContainerDir("pids", id), "pids.max"); max != "50" {
		t.Errorf("after update, pids.max = %s", max)
	}
}

// TestCgroupsPauseFreezer: pause uses the freezer cgroup when there is one.
func TestCgroupsPauseFreezer(t *testing.T) {
	d, tree := cgDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "sleep 1000")
	d.DockerOK(t, "pause", id)
	if st := cgRead(t, tree.ContainerDir("freezer", id), "freezer.state"); st != "FROZEN" {
		t.Errorf("after pause, freezer.state = %s", st)
	}
	d.DockerOK(t, "unpause", id)
	if st := cgRead(t, tree.ContainerDir("freezer", id), "freezer.state"); st != "THAWED" {
		t.Errorf("after unpause, freezer.state = %s", st)
	}
	d.DockerOK(t, "pause", id)
	d.DockerOK(t, "stop", "-t", "1", id) // a frozen container still stops
	if st := monInspect(t, d, id, "{{.State.Status}}"); st != "exited" {
		t.Errorf("after stopping a paused container, status = %q", st)
	}
}

// TestCgroupsCPU: --cpus, --cpu-shares and --cpuset-cpus reach the cgroup,
// and a busy loop under --cpus 0.5 is throttled to about half a CPU.
func TestCgroupsCPU(t *testing.T) {
	d, tree := cgDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "while :; do :; done")
	cpu := tree.ContainerDir("cpu", id)
	got := cgRead(t, cpu, "cpu.cfs_quota_us") + " " + cgRead(t, cpu, "cpu.cfs_period_us") + " " + cgRead(t, cpu, "cpu.shares")
	if got != "50000 100000 512" {
		t.Errorf("cpu quota, period, shares = %s, want 50000 100000 512", got)
	}
	if cpus := cgRead(t, tree.ContainerDir("cpuset", id), "cpuset.cpus"); cpus != "0" {
		t.Errorf("cpuset.cpus = %s", cpus)
	}
	harness.Poll(t, 20*time.Second, "docker stats to show the busy loop throttled to about 50%", func() (bool, string) {
		out := strings.TrimSpace(d.DockerOK(t, "stats", "--no-stream", "--format", "{{.CPUPerc}}", id))
		pct, err := strconv.ParseFloat(strings.TrimSuffix(out, "%"), 64)
		return err == nil && pct > 20 && pct < 65, out
	})
	d.DockerOK(t, "update", "--cpus", "1.5", id)
	if q := cgRead(t, cpu, "cpu.cfs_quota_us"); q != "150000" {
		t.Errorf("after update, cpu.cfs_quota_us = %s", q)
	}
}
