package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os/exec"
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
	if r := d.Docker(t, "run", "--rm", "-w", "relative", img, "pwd"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "needs to be an absolute path") {
		t.Errorf("-w relative:\n%s", r)
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
