package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

func TestContainerCreateStartAttach(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	name := ctName("cs")
	d.DockerOK(t, "create", "--name", name, img, "sh", "-c", "echo out; echo err >&2; exit 2")
	t.Cleanup(func() { ctRemove(t, d, name) })
	if st := ctInspect(t, d, name).State; st.Status != container.StateCreated || st.Pid != 0 {
		t.Errorf("after create: state %+v", st)
	}
	r := d.Docker(t, "start", "-a", name)
	if r.ExitCode != 2 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("start -a: want exit 2, out/err on their streams:\n%s", r)
	}
	id := ctRunD(t, d, "-i", img, "sh", "-c", "read x; echo got:$x; exit 4")
	r = d.DockerStdin(t, strings.NewReader("hello\n"), "attach", id)
	if r.ExitCode != 4 || r.Stdout != "got:hello\n" {
		t.Errorf("attach with piped stdin: want got:hello and exit 4:\n%s", r)
	}
}

func TestContainerExec(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	id := ctRunD(t, d, img, "sleep", "300")
	r := d.DockerStdin(t, strings.NewReader("piped\n"), "exec", "-i", id, "cat")
	if r.ExitCode != 0 || r.Stdout != "piped\n" {
		t.Errorf("exec -i cat:\n%s", r)
	}
	if out := d.DockerOK(t, "exec", "-t", id, "tty"); !strings.HasPrefix(out, "/dev/pts/") || !strings.HasSuffix(out, "\r\n") {
		t.Errorf("exec -t tty printed %q", out)
	}
	out := d.DockerOK(t, "exec", "-e", "X=1", "-u", "1000:1001", "-w", "/etc", id, "sh", "-c", "echo $X $(id -u) $(id -g) $(pwd)")
	if out != "1 1000 1001 /etc\n" {
		t.Errorf("exec -e -u -w printed %q", out)
	}
	if out := d.DockerOK(t, "exec", id, "sh", "-c", "echo $$"); out == "1\n" {
		t.Error("exec'd shell is pid 1")
	}
	if r := d.Docker(t, "exec", id, "sh", "-c", "exit 5"); r.ExitCode != 5 {
		t.Errorf("exec exit 5:\n%s", r)
	}
}

func TestContainerLogs(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	id := ctRunD(t, d, img, "sh", "-c", `trap "exit 0" USR1; for i in 1 2 3 4 5; do echo l$i; done; `+
		`until [ -e /tmp/go ]; do sleep 0.05; done; echo late; while :; do sleep 0.05; done`)
	harness.Poll(t, 10*time.Second, "l5 in the log", func() (bool, string) {
		out := ctCLI(t, d, "logs", id)
		return out == "l1\nl2\nl3\nl4\nl5\n", out
	})
	if out := d.DockerOK(t, "logs", "--tail", "2", id); out != "l4\nl5\n" {
		t.Errorf("logs --tail 2 = %q", out)
	}
	stamped := d.DockerOK(t, "logs", "-t", "--tail", "1", id)
	m := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) l5\n$`).FindStringSubmatch(stamped)
	if m == nil {
		t.Fatalf("logs -t --tail 1 = %q, want an RFC 3339 nano timestamp and l5", stamped)
	}
	l5, _ := time.Parse(time.RFC3339Nano, m[1])
	follow := ctStart(t, d, ctDockerPath(t), "logs", "-f", "--tail", "1", id)
	follow.waitOutput(t, "l5\n")
	d.DockerOK(t, "exec", id, "touch", "/tmp/go")
	follow.waitOutput(t, "late\n")
	since := l5.Add(time.Nanosecond).Format(time.RFC3339Nano)
	if out := d.DockerOK(t, "logs", "--since", since, id); out != "late\n" {
		t.Errorf("logs --since %s = %q, want only the line after l5", since, out)
	}
	d.DockerOK(t, "kill", "-s", "USR1", id)
	if code := follow.wait(t); code != 0 || follow.output() != "l5\nlate\n" {
		t.Errorf("logs -f after the container ended: exit %d, output %q", code, follow.output())
	}
}

func TestContainerStopKillRestart(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	if out := d.DockerOK(t, "wait", ctRunD(t, d, img, "sh", "-c", "exit 7")); out != "7\n" {
		t.Errorf("wait = %q, want 7", out)
	}
	plain := ctRunD(t, d, img, "sleep", "300") // pid 1 without a TERM handler
	start := time.Now()
	d.DockerOK(t, "stop", "-t", "1", plain)
	if st := ctInspect(t, d, plain).State; st.ExitCode != 137 || st.Running || time.Since(start) < time.Second {
		t.Errorf("stop -t 1 of a container ignoring SIGTERM: %+v after %s, want 137 after the 1s grace", st, time.Since(start))
	}
	withInit := ctRunD(t, d, "--init", img, "sleep", "300")
	d.DockerOK(t, "stop", withInit)
	if code := ctInspect(t, d, withInit).State.ExitCode; code != 143 {
		t.Errorf("stop of --init sleep: exit %d, want 143 (SIGTERM)", code)
	}
	trap := ctRunD(t, d, img, "sh", "-c", `trap "exit 42" USR1; echo ready; while :; do sleep 0.1; done`)
	harness.Poll(t, 10*time.Second, "trap set", func() (bool, string) { out := ctCLI(t, d, "logs", trap); return out == "ready\n", out })
	d.DockerOK(t, "kill", "-s", "USR1", trap)
	if out := d.DockerOK(t, "wait", trap); out != "42\n" {
		t.Errorf("kill -s USR1 then wait = %q, want the trap's 42", out)
	}
	killed := ctRunD(t, d, img, "sleep", "300")
	d.DockerOK(t, "kill", killed)
	if st := ctInspect(t, d, killed).State; st.Running || st.ExitCode != 137 {
		t.Errorf("right after kill: running %v, exit %d; want stopped with 137 (kill waits, as dockerd's)", st.Running, st.ExitCode)
	}
	if out := d.DockerOK(t, "wait", killed); out != "137\n" {
		t.Errorf("kill then wait = %q, want 137", out)
	}
	// The count lives in the container's layer: it tells lost output from
	// a truncated log.
	re := ctRunD(t, d, img, "sh", "-c", "echo >> /runs; echo boot $(wc -l < /runs); sleep 300")
	before := ctInspect(t, d, re).State
	d.DockerOK(t, "restart", "-t", "1", re)
	after := ctInspect(t, d, re).State
	if !after.Running || after.Pid == before.Pid || after.StartedAt == before.StartedAt {
		t.Errorf("restart: before %+v, after %+v", before, after)
	}
	harness.Poll(t, 10*time.Second, "second boot in the log", func() (bool, string) {
		out := ctCLI(t, d, "logs", re)
		return out == "boot 1\nboot 2\n", out
	})
	d.DockerOK(t, "rm", "-f", re)
	if r := d.Docker(t, "inspect", re); r.ExitCode == 0 {
		t.Errorf("container still there after rm -f:\n%s", r)
	}
}

func TestContainerRename(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	old, renamed := ctName("old"), ctName("new")
	id := ctRunD(t, d, "--name", old, img, "sleep", "300")
	d.DockerOK(t, "rename", old, renamed)
	if n := ctInspect(t, d, id).Name; n != "/"+renamed {
		t.Errorf("Name after rename = %q", n)
	}
	if out := d.DockerOK(t, "ps", "--filter", "id="+id, "--format", "{{.Names}}"); out != renamed+"\n" {
		t.Errorf("ps after rename shows %q", out)
	}
	if r := d.Docker(t, "exec", old, "true"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "No such container") {
		t.Errorf("old name still resolves:\n%s", r)
	}
	d.DockerOK(t, "exec", renamed, "true")
}

func TestContainerPsInspect(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	label := "ct.test=" + ctName("ps")
	up, three, created := ctName("up"), ctName("three"), ctName("created")
	ctRunD(t, d, "--name", up, "--label", label, "-e", "FOO=bar", "-w", "/tmp", "--hostname", "h1",
		"--read-only", "--cap-drop", "ALL", "--init", img, "sleep", "300")
	t.Cleanup(func() { ctRemove(t, d, three, created) })
	d.Docker(t, "run", "--name", three, "--label", label, img, "sh", "-c", "exit 3")
	d.DockerOK(t, "create", "--name", created, "--label", label, img, "true")
	ps := func(args ...string) []string {
		args = append([]string{"ps", "--filter", "label=" + label, "--format", "{{.Names}}"}, args...)
		return ctSorted(d.DockerOK(t, args...))
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{up}},
		{[]string{"-a"}, ctSorted(up, three, created)},
		{[]string{"-a", "--filter", "status=exited"}, []string{three}},
		{[]string{"-a", "--filter", "status=created"}, []string{created}},
		{[]string{"-a", "--filter", "exited=3"}, []string{three}},
		{[]string{"-a", "--filter", "exited=0"}, nil},
		{[]string{"-a", "--filter", "name=" + three}, []string{three}},
		{[]string{"-a", "--filter", "ancestor=" + img}, ctSorted(up, three, created)},
		{[]string{"-a", "--filter", "ancestor=dltest/other"}, nil},
	} {
		if got := ps(tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("ps --filter label=%s %v = %q, want %q", label, tc.args, got, tc.want)
		}
	}
	ids := ctSorted(d.DockerOK(t, "ps", "-a", "-q", "--filter", "label="+label))
	for _, n := range []string{up, three, created} {
		if full := ctInspect(t, d, n).ID; !slices.Contains(ids, full[:12]) {
			t.Errorf("ps -a -q %q lacks %s (%s)", ids, n, full[:12])
		}
	}
	ctCheckInspect(t, d, up, three)
}

func ctCheckInspect(t *testing.T, d *harness.Daemon, up, three string) {
	c := ctInspect(t, d, up)
	if c.Name != "/"+up || !c.State.Running || c.State.Pid <= 0 || c.State.ExitCode != 0 {
		t.Errorf("inspect running: Name %q State %+v", c.Name, c.State)
	}
	cfg, hc := c.Config, c.HostConfig
	if !slices.Contains(cfg.Env, "FOO=bar") || cfg.WorkingDir != "/tmp" || cfg.Hostname != "h1" ||
		!slices.Equal(cfg.Cmd, []string{"sleep", "300"}) || !strings.HasPrefix(cfg.Image, "dltest/busybox") {
		t.Errorf("inspect Config: %+v", cfg)
	}
	if !hc.ReadonlyRootfs || !slices.Equal(hc.CapDrop, []string{"ALL"}) || hc.Init == nil || !*hc.Init {
		t.Errorf("inspect HostConfig: ReadonlyRootfs %v CapDrop %v Init %v", hc.ReadonlyRootfs, hc.CapDrop, hc.Init)
	}
	x := ctInspect(t, d, three)
	if x.State.Running || x.State.Pid != 0 || x.State.ExitCode != 3 || x.State.Status != container.StateExited {
		t.Errorf("inspect exited: %+v", x.State)
	}
	out := d.DockerOK(t, "inspect", "--format", "{{.State.ExitCode}} {{.Name}} {{.HostConfig.ReadonlyRootfs}}", three)
	if out != "3 /"+three+" false\n" {
		t.Errorf("inspect --format = %q", out)
	}
}

func TestContainerErrors(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	name := ctName("taken")
	id := ctRunD(t, d, "--name", name, img, "sleep", "300")
	// The CLI exits 125 for run's daemon errors, 1 for create's.
	if r := d.Docker(t, "run", "--name", name, img, "true"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "Conflict") {
		t.Errorf("run with a taken name: want 125 and Conflict:\n%s", r)
	}
	if r := d.Docker(t, "create", "--name", name, img, "true"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "Conflict") {
		t.Errorf("create with a taken name: want a Conflict error:\n%s", r)
	}
	missing := fmt.Sprintf("127.0.0.1:%d/dltest/absent:1", harness.FreePort(t))
	if r := d.Docker(t, "run", "--rm", missing, "true"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "Unable to find image") ||
		!strings.Contains(r.Stderr, "connection refused") {
		t.Errorf("run of an image no registry serves: want 125 and the pull error:\n%s", r)
	}
	if r := d.Docker(t, "start", name); r.ExitCode != 0 {
		t.Errorf("start of a running container:\n%s", r)
	}
	if r := d.Curl(t, "POST", "/containers/"+id+"/start", nil); r.StatusCode != 304 {
		t.Errorf("POST /containers/{id}/start of a running container = %d, want 304", r.StatusCode)
	}
	r := d.Docker(t, "rm", name)
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "stop") || !strings.Contains(r.Stderr, "force") {
		t.Errorf("rm of a running container: want an error about stop/force:\n%s", r)
	}
	if !ctInspect(t, d, id).State.Running {
		t.Error("refused rm stopped the container")
	}
}

func TestContainerEvents(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	since := time.Now()
	id := strings.TrimSpace(d.DockerOK(t, "create", "--name", ctName("ev"), img, "sleep", "300"))
	t.Cleanup(func() { ctRemove(t, d, id) })
	d.DockerOK(t, "start", id)
	d.DockerOK(t, "exec", id, "true")
	d.DockerOK(t, "rename", id, ctName("ev2"))
	d.DockerOK(t, "kill", id)
	d.DockerOK(t, "wait", id)
	d.DockerOK(t, "rm", id)
	want := []string{"create", "start", "exec_create: true", "exec_start: true", "exec_die 0",
		"rename", "kill 9", "die 137", "destroy"}
	var got []string
	harness.Poll(t, 10*time.Second, "the container's events", func() (bool, string) {
		out := d.DockerOK(t, "events", "--since", ctUnix(since), "--until", ctUnix(time.Now()),
			"--filter", "type=container", "--filter", "container="+id,
			"--format", `{{.Action}} {{index .Actor.Attributes "exitCode"}}{{index .Actor.Attributes "signal"}}`)
		got = strings.Split(strings.TrimSpace(out), "\n")
		for i := range got {
			got[i] = strings.TrimSpace(got[i])
		}
		return slices.Contains(got, "destroy"), out
	})
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
}

// TestContainerSurvivesDaemonKill: kill -9 every daemon process but the
// shims; a daemon started again on the same roots re-adopts the container.
func TestContainerSurvivesDaemonKill(t *testing.T) {
	t.Parallel()
	d1, root := ctPrivateDaemon(t)
	img := d1.LoadBusybox(t)
	id := strings.TrimSpace(d1.DockerOK(t, "run", "-d", img, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done"))
	harness.Poll(t, 10*time.Second, "two counter lines", func() (bool, string) {
		out := ctCLI(t, d1, "logs", id)
		return strings.Count(out, "\n") >= 2, out
	})
	pid := ctInspect(t, d1, id).State.Pid
	if keep, _ := ctSplitShims(d1.Processes()); !slices.Contains(keep, pid) {
		t.Fatalf("no shim holding container pid %d among the daemon's processes %v", pid, d1.Processes())
	}
	var last int // the shim keeps logging while no daemon runs
	d2 := ctCrashAndRestart(t, d1, root, func() { last = ctLastCounter(t, d1, id) })
	t.Cleanup(func() { ctRemove(t, d2, id) })
	if st := ctInspect(t, d2, id).State; !st.Running || st.Pid != pid {
		t.Fatalf("after the restart: state %+v, want running with pid %d", st, pid)
	}
	follow := ctStart(t, d2, ctDockerPath(t), "logs", "-f", "--tail", "1", id)
	harness.Poll(t, 10*time.Second, fmt.Sprintf("logs -f past %d", last+2), func() (bool, string) {
		f := strings.Fields(follow.output())
		if len(f) == 0 {
			return false, ""
		}
		n, _ := strconv.Atoi(f[len(f)-1])
		return n > last+2, follow.output()
	})
	if out := d2.DockerOK(t, "exec", id, "echo", "alive"); out != "alive\n" {
		t.Errorf("exec after the restart printed %q", out)
	}
	d2.DockerOK(t, "stop", "-t", "1", id)
	if code := ctInspect(t, d2, id).State.ExitCode; code != 137 && code != 143 {
		t.Errorf("stop after the restart: exit %d, want 137 or 143", code)
	}
	if code := follow.wait(t); code != 0 {
		t.Errorf("logs -f exited %d when the container stopped", code)
	}
}
