package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// monDaemon starts a daemon of its own for t, with an exec root short
// enough for the shims' unix sockets (the shared daemon's, under the run's
// temporary directory, is longer than sun_path allows).
func monDaemon(t *testing.T) *harness.Daemon {
	t.Helper()
	return ownDaemon(t)
}

// monRemoveAll removes every container of d; tests defer it, because the
// shims would keep containers running after the daemon stops and t's
// context is already cancelled in cleanups.
func monRemoveAll(t *testing.T, d *harness.Daemon) {
	for _, id := range strings.Fields(d.DockerOK(t, "ps", "-aq")) {
		d.Docker(t, "rm", "-f", id)
	}
}

// monRun starts a detached busybox container and removes it when t ends.
func monRun(t *testing.T, d *harness.Daemon, args ...string) string {
	t.Helper()
	img := d.LoadBusybox(t)
	run := append([]string{"run", "-d"}, args[:len(args)-1]...)
	run = append(run, img, "sh", "-c", args[len(args)-1])
	return strings.TrimSpace(d.DockerOK(t, run...))
}

func monInspect(t *testing.T, d *harness.Daemon, id, format string) string {
	t.Helper()
	return strings.TrimSpace(d.DockerOK(t, "inspect", "--format", format, id))
}

func TestMonitorTop(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "sleep 1000 & sleep 2000")
	harness.Poll(t, 10*time.Second, "both sleeps in docker top", func() (bool, string) {
		out := d.DockerOK(t, "top", id)
		return strings.Contains(out, "sleep 1000") && strings.Contains(out, "sleep 2000") && strings.Contains(out, "PID"), out
	})
	// busybox sh execs its last command: the processes are the two sleeps
	out := d.DockerOK(t, "top", id, "-o", "pid,comm")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "PID") || strings.Count(out, "sleep") != 2 {
		t.Errorf("docker top -o pid,comm: want a header and the 2 sleeps, got:\n%s", out)
	}
	d.DockerOK(t, "stop", "-t", "0", id)
	if r := d.Docker(t, "top", id); r.ExitCode == 0 || !strings.Contains(r.Stderr, "is not running") {
		t.Errorf("docker top of a stopped container: want 'is not running', got:\n%s", r)
	}
}

func TestMonitorStatsNoStream(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	// a shell loop burns CPU and holds a 4 MiB string in memory
	id := monRun(t, d, `x=$(head -c 4194304 /dev/zero | tr '\0' a); while :; do :; done`)
	harness.Poll(t, 20*time.Second, "stats with memory above 4MiB and CPU above 10%", func() (bool, string) {
		out := d.DockerOK(t, "stats", "--no-stream", "--format", "{{.MemUsage}}|{{.CPUPerc}}|{{.PIDs}}", id)
		f := strings.Split(strings.TrimSpace(out), "|")
		if len(f) != 3 {
			return false, out
		}
		mem, err := units.RAMInBytes(strings.TrimSpace(strings.Split(f[0], "/")[0]))
		cpu, err2 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		return err == nil && err2 == nil && mem > 4<<20 && cpu > 10 && f[2] != "0", out
	})
}

func TestMonitorPauseUnpause(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done")
	count := func() int { // the counter's last value, from the log
		f := strings.Fields(d.DockerOK(t, "logs", id))
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(f[len(f)-1])
		return n
	}
	harness.Poll(t, 10*time.Second, "the counter", func() (bool, string) { return count() > 0, "" })
	d.DockerOK(t, "pause", id)
	if st := monInspect(t, d, id, "{{.State.Status}} {{.State.Paused}}"); st != "paused true" {
		t.Fatalf("after pause, state = %q, want paused true", st)
	}
	if r := d.Docker(t, "exec", id, "true"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec in a paused container: want refused as paused, got:\n%s", r)
	}
	n1 := count()
	time.Sleep(time.Second) // ten ticks: the counter must not move
	if n2 := count(); n2 != n1 {
		t.Errorf("paused counter advanced from %d to %d", n1, n2)
	}
	d.DockerOK(t, "unpause", id)
	harness.Poll(t, 10*time.Second, "the counter to advance after unpause", func() (bool, string) {
		n := count()
		return n > n1, strconv.Itoa(n)
	})
	if st := monInspect(t, d, id, "{{.State.Status}}"); st != "running" {
		t.Errorf("after unpause, status = %q", st)
	}
	d.DockerOK(t, "pause", id)
	d.DockerOK(t, "stop", "-t", "5", id) // a paused container still stops on SIGTERM
	if st := monInspect(t, d, id, "{{.State.Status}}"); st != "exited" {
		t.Errorf("after stopping a paused container, status = %q", st)
	}
}

func TestMonitorUpdateRestart(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "sleep 1000")
	r := d.DockerOK(t, "update", "--restart", "on-failure:3", "--memory", "64m", id)
	if !strings.Contains(r, id[:12]) && !strings.Contains(r, id) {
		t.Errorf("docker update printed %q", r)
	}
	if p := monInspect(t, d, id, "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); p != "on-failure:3" {
		t.Errorf("restart policy after update = %q, want on-failure:3", p)
	}
}

func TestMonitorRestartOnFailure(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "--restart", "on-failure:2", "exit 3")
	harness.Poll(t, 30*time.Second, "RestartCount 2 and exited", func() (bool, string) {
		s := monInspect(t, d, id, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")
		return s == "2 exited 3", s
	})
	time.Sleep(time.Second) // no third restart
	if s := monInspect(t, d, id, "{{.RestartCount}} {{.State.Status}}"); s != "2 exited" {
		t.Errorf("after the retries: %q, want 2 exited", s)
	}
}

func TestMonitorRestartAlwaysStop(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "--restart", "always", "sleep 0.3; exit 0")
	harness.Poll(t, 30*time.Second, "a restart", func() (bool, string) {
		s := monInspect(t, d, id, "{{.RestartCount}}")
		n, _ := strconv.Atoi(s)
		return n >= 2, s
	})
	d.DockerOK(t, "stop", "-t", "1", id)
	s1 := monInspect(t, d, id, "{{.RestartCount}} {{.State.Status}}")
	time.Sleep(time.Second)
	if s2 := monInspect(t, d, id, "{{.RestartCount}} {{.State.Status}}"); s2 != s1 || !strings.HasSuffix(s2, "exited") {
		t.Errorf("after docker stop: %q then %q, want it to stay exited", s1, s2)
	}
}

func TestMonitorHealth(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	healthy := monRun(t, d, "--health-cmd", "test -e /tmp/ok", "--health-interval", "200ms", "--health-retries", "2",
		"touch /tmp/ok; sleep 1000")
	unhealthy := monRun(t, d, "--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "2", "sleep 1000")
	harness.Poll(t, 20*time.Second, "healthy", func() (bool, string) {
		s := monInspect(t, d, healthy, "{{.State.Health.Status}}")
		return s == "healthy", s
	})
	harness.Poll(t, 20*time.Second, "unhealthy", func() (bool, string) {
		s := monInspect(t, d, unhealthy, "{{.State.Health.Status}} {{.State.Health.FailingStreak}}")
		return strings.HasPrefix(s, "unhealthy "), s
	})
	ps := d.DockerOK(t, "ps", "--filter", "id="+healthy, "--format", "{{.Status}}")
	if !strings.Contains(ps, "(healthy)") {
		t.Errorf("docker ps status = %q, want (healthy)", ps)
	}
	ids := d.DockerOK(t, "ps", "-q", "--no-trunc", "--filter", "health=unhealthy")
	if !strings.Contains(ids, unhealthy) || strings.Contains(ids, healthy) {
		t.Errorf("ps --filter health=unhealthy = %q", ids)
	}
}

func TestMonitorContainerPrune(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	stopped := strings.TrimSpace(d.DockerOK(t, "create", img, "true"))
	running := monRun(t, d, "sleep 1000")
	out := d.DockerOK(t, "container", "prune", "-f")
	if !strings.Contains(out, stopped) {
		t.Errorf("container prune output %q does not name %s", out, stopped)
	}
	if r := d.Docker(t, "inspect", stopped); r.ExitCode == 0 {
		t.Errorf("pruned container %s still exists", stopped)
	}
	if st := monInspect(t, d, running, "{{.State.Status}}"); st != "running" {
		t.Errorf("running container after prune: %q", st)
	}
}
