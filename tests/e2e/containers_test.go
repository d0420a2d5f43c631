package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

func TestContainerRunOptions(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	name := ctName("rm")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", name, img, "echo", "hi"}, "hi\n"},
		{[]string{"-e", "FOO=bar", "-w", "/tmp", img, "sh", "-c", "echo $FOO; pwd"}, "bar\n/tmp\n"},
		{[]string{"-u", "1234", img, "id"}, "uid=1234 gid=0(root)"},
		{[]string{"-u", "1234:5678", img, "id"}, "uid=1234 gid=5678"},
		{[]string{"-u", "nobody", img, "id"}, "uid=65534(nobody) gid=65534(nogroup)"},
		{[]string{"--hostname", "box.test", img, "hostname"}, "box.test\n"},
		{[]string{"--add-host", "db.test:10.1.2.3", img, "grep", "db.test", "/etc/hosts"}, "10.1.2.3\tdb.test\n"},
		{[]string{"--entrypoint", "/bin/echo", img, "from", "entrypoint"}, "from entrypoint\n"},
		{[]string{"--read-only", img, "sh", "-c", "touch /x 2>&1; echo rc=$?"}, "Read-only file system\nrc=1\n"},
		{[]string{"--cap-drop", "ALL", img, "grep", "CapEff", "/proc/self/status"}, "CapEff:\t0000000000000000\n"},
		{[]string{"--init", img, "ps", "-o", "pid,comm"}, "    1 docker-init\n"},
		{[]string{img, "sh", "-c", "echo $$"}, "1\n"},
		{[]string{img, "id"}, "uid=0(root) gid=0(root)"},
	} {
		out := d.DockerOK(t, append([]string{"run", "--rm"}, tc.args...)...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("docker run --rm %s printed %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	if out := d.DockerOK(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Names}}"); out != "" {
		t.Errorf("container %s outlived run --rm: %q", name, out)
	}
	// Only its own processes: pid 1 (sh) and ps itself.
	out := d.DockerOK(t, "run", "--rm", img, "sh", "-c", "ps -o pid,comm; true")
	if l := strings.Split(strings.TrimSpace(out), "\n"); len(l) != 3 || strings.Join(strings.Fields(l[1]), " ") != "1 sh" ||
		!strings.HasSuffix(l[2], " ps") {
		t.Errorf("ps in a container shows %q, want only its pid 1 sh and ps", out)
	}
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	r := d.DockerStdin(t, bytes.NewReader(data), "run", "--rm", "-i", img, "sha256sum")
	if r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, hex.EncodeToString(sum[:])) {
		t.Errorf("1 MiB piped to run -i sha256sum:\n%s\nwant %x", r, sum)
	}
}

func TestContainerExitCodes(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	label := "ct.test=" + ctName("exit")
	t.Cleanup(func() {
		if ids := strings.Fields(ctCLI(t, d, "ps", "-aq", "--filter", "label="+label)); len(ids) > 0 {
			ctRemove(t, d, ids...)
		}
	})
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{img, "nope"}, 127},
		{[]string{img, "/etc/passwd"}, 126},
		{[]string{img, "sh", "-c", "exit 3"}, 3},
		// pid 1 ignores signals it has no handler for, SIGKILL from inside
		// its own pid namespace included: sh goes on and exits 0.
		{[]string{img, "sh", "-c", "kill -9 $$"}, 0},
		// With --init the shell is not pid 1 and dies of the signal.
		{[]string{"--init", img, "sh", "-c", "kill -9 $$"}, 137},
	} {
		r := d.Docker(t, append([]string{"run", "--rm", "--label", label}, tc.args...)...)
		if r.ExitCode != tc.code {
			t.Errorf("exit code %d, want %d:\n%s", r.ExitCode, tc.code, r)
		}
	}
	if out := d.DockerOK(t, "ps", "-a", "--filter", "label="+label); strings.Count(out, "\n") > 1 {
		t.Errorf("run --rm left containers behind, failed starts included:\n%s", out)
	}
}

func TestContainerRunTTY(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	if out := d.DockerOK(t, "run", "--rm", "-t", img, "tty"); out != "/dev/pts/0\r\n" {
		t.Errorf("run -t tty printed %q, want /dev/pts/0 with a tty's CRLF", out)
	}
	t.Run("cli-it", func(t *testing.T) {
		script, err := exec.LookPath("script")
		if err != nil {
			t.Skip("util-linux script not installed: no pty to give docker run -it")
		}
		p := ctStart(t, d, script, "-qec", ctDockerPath(t)+" run -it --rm "+img+" sh", "/dev/null")
		p.waitOutput(t, "# ")
		p.write(t, "echo $((6*7))\n")
		p.waitOutput(t, "42\r\n")
		p.write(t, "exit 5\n")
		if code := p.wait(t); code != 5 {
			t.Errorf("docker run -it ... exit 5 under script exited %d; output %q", code, p.output())
		}
	})
	t.Run("client-it", func(t *testing.T) { ctClientInteractive(t, d, img) })
}

// ctClientInteractive does what `docker run -it` does with the Go client:
// create with a tty and open stdin, attach, start, type, wait.
func ctClientInteractive(t *testing.T, d *harness.Daemon, img string) {
	c, ctx := d.Client(t), t.Context()
	cr, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: ctName("it"), Config: &container.Config{
		Image: img, Cmd: []string{"sh"}, Tty: true, OpenStdin: true, StdinOnce: true,
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctRemove(t, d, cr.ID) })
	at, err := c.ContainerAttach(ctx, cr.ID, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	if _, err := c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(at.Conn, "echo $((6*7))\nexit 5\n"); err != nil {
		t.Fatal(err)
	}
	_ = at.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	out, _ := io.ReadAll(at.Reader) // raw, not multiplexed, with a tty
	if !strings.Contains(string(out), "42\r\n") {
		t.Errorf("tty output %q lacks 42", out)
	}
	w := c.ContainerWait(ctx, cr.ID, client.ContainerWaitOptions{})
	select {
	case res := <-w.Result:
		if res.StatusCode != 5 {
			t.Errorf("wait = %d, want 5", res.StatusCode)
		}
	case err := <-w.Error:
		t.Fatal(err)
	}
}

// TestContainerUserNamespace: root inside, an unprivileged uid outside.
func TestContainerUserNamespace(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	id := ctRunD(t, d, img, "sleep", "300")
	if out := d.DockerOK(t, "exec", id, "id"); !strings.HasPrefix(out, "uid=0(root) gid=0(root)") {
		t.Errorf("id in the container: %q, want uid=0", out)
	}
	pid := ctInspect(t, d, id).State.Pid
	uids, err := daemon.UIDs(pid)
	if err != nil {
		t.Fatalf("host side of the container, pid %d: %v", pid, err)
	}
	if me := harness.Identity(); uids[0] != me.UID || uids[1] != me.UID {
		t.Errorf("container root is host uid %v, want the daemon user's %d", uids, me.UID)
	}
	lo, n := ctSubUID(t)
	if n == 0 {
		t.Log("no /etc/subuid range: a single-uid mapping has no uid 1234 to check")
		return
	}
	nid := ctRunD(t, d, "-u", "1234", img, "sleep", "300")
	uids, err = daemon.UIDs(ctInspect(t, d, nid).State.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if uids[0] != lo+1233 {
		t.Errorf("container uid 1234 is host uid %v, want %d (subuid start %d + 1233)", uids, lo+1233, lo)
	}
}

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
	root := ctExecRoot(t)
	d1 := harness.NewDaemon(t, harness.Options{Args: []string{"--exec-root", root}})
	d1.Launch(t) // not Start: the harness would count the kill as a crash
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := d1.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	img := d1.LoadBusybox(t)
	id := strings.TrimSpace(d1.DockerOK(t, "run", "-d", img, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done"))
	harness.Poll(t, 10*time.Second, "two counter lines", func() (bool, string) {
		out := ctCLI(t, d1, "logs", id)
		return strings.Count(out, "\n") >= 2, out
	})
	pid := ctInspect(t, d1, id).State.Pid
	keep, victims := ctSplitShims(d1.Processes())
	if len(keep) == 0 || !slices.Contains(keep, pid) {
		t.Fatalf("no shim holding container pid %d among the daemon's processes %v", pid, d1.Processes())
	}
	t.Cleanup(ctKillLater(keep))
	ctKill(victims)
	harness.Poll(t, 10*time.Second, "the killed processes to be gone", func() (bool, string) {
		alive := slices.DeleteFunc(slices.Clone(victims), func(p int) bool { _, err := daemon.UIDs(p); return err != nil })
		return len(alive) == 0, fmt.Sprint(alive)
	})
	<-d1.Exited()
	last := ctLastCounter(t, d1, id)
	d2 := harness.NewDaemon(t, harness.Options{DataRoot: d1.DataRoot, Args: []string{"--exec-root", root}})
	d2.Start(t)
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
