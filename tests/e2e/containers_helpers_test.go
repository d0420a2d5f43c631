package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// ctLastCounter reads the counter from the container's json log while no
// daemon runs, until it has grown: the orphaned shim still logs.
func ctLastCounter(t *testing.T, d *harness.Daemon, id string) int {
	t.Helper()
	path := filepath.Join(d.DataRoot, "containers", id, id+"-json.log")
	last := func() int {
		data, _ := os.ReadFile(path)
		m := regexp.MustCompile(`"log":"(\d+)\\n"[^\n]*\n$`).FindSubmatch(data)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	first := last()
	harness.Poll(t, 10*time.Second, "the orphaned shim to keep logging", func() (bool, string) {
		n := last()
		return first > 0 && n > first, fmt.Sprintf("first %d, now %d in %s", first, n, path)
	})
	return first
}

// ctSplitShims splits a daemon's process tree into the shims with their
// containers, and everything else.
func ctSplitShims(tree []int) (shims, rest []int) {
	for _, p := range tree {
		if strings.HasPrefix(daemon.Cmdline(p), "dockerd-lite-shim") {
			shims = append(shims, daemon.Tree(p)...)
		}
	}
	for _, p := range tree {
		if !slices.Contains(shims, p) {
			rest = append(rest, p)
		}
	}
	return shims, rest
}

// ctKillLater notes the programs pids run now and returns a func that
// kills those still running the same program (a pid may be reused).
func ctKillLater(pids []int) func() {
	cmds := map[int]string{}
	for _, p := range pids {
		cmds[p] = daemon.Cmdline(p)
	}
	return func() {
		for _, p := range pids {
			if c := daemon.Cmdline(p); c != "" && c == cmds[p] {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
}

func ctKill(pids []int) {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// ctDaemon returns the shared daemon with the busybox image loaded.
// Tests run in parallel on it: they touch only containers they made, and
// remove each one when they end.
func ctDaemon(t *testing.T) (*harness.Daemon, string) {
	t.Helper()
	d := harness.Shared(t)
	return d, d.LoadBusybox(t)
}

// ctExecRoot returns a short exec root for a private daemon (the default
// one under t's temporary directory is long).
func ctExecRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "dlc")
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.Identity().Chown(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := daemon.RemoveAll(context.WithoutCancel(t.Context()), root); err != nil {
			t.Error(err)
		}
	})
	return root
}

// ownDaemon starts a daemon of its own for t, with extra flags, on a short
// exec root (ctExecRoot).
func ownDaemon(t *testing.T, args ...string) *harness.Daemon {
	t.Helper()
	d := harness.NewDaemon(t, harness.Options{Args: append([]string{"--exec-root", ctExecRoot(t)}, args...)})
	d.Start(t)
	return d
}

// ctRunD runs `docker run -d args...`, returns the id and removes the
// container when t ends.
func ctRunD(t *testing.T, d *harness.Daemon, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(d.DockerOK(t, append([]string{"run", "-d"}, args...)...))
	t.Cleanup(func() { ctRemove(t, d, id) })
	return id
}

// ctRemove force-removes containers in a cleanup, trying again while one is
// left (rm -f can fail, see the report), so that no shim outlives the run.
func ctRemove(t *testing.T, d *harness.Daemon, ids ...string) {
	for range 3 {
		ctCLI(t, d, append([]string{"rm", "-f"}, ids...)...)
		left := ids[:0:0]
		for _, id := range ids {
			out := ctCLI(t, d, "inspect", "--type", "container", "--format", "{{.Id}}", id)
			if regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(out) {
				left = append(left, id)
			}
		}
		if ids = left; len(ids) == 0 {
			return
		}
	}
	t.Errorf("containers %v survived rm -f", ids)
}

func ctInspect(t *testing.T, d *harness.Daemon, name string) container.InspectResponse {
	t.Helper()
	res, err := d.Client(t).ContainerInspect(t.Context(), name, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return res.Container
}

var ctSeq struct {
	sync.Mutex
	n int
}

// ctName returns a container name unique in the run.
func ctName(base string) string {
	ctSeq.Lock()
	defer ctSeq.Unlock()
	ctSeq.n++
	return fmt.Sprintf("ct-%s-%d-%d", base, os.Getpid(), ctSeq.n)
}

func ctSorted(s ...string) []string {
	var out []string
	for _, x := range s {
		out = append(out, strings.Fields(x)...)
	}
	slices.Sort(out)
	return out
}

func ctUnix(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// ctSubUID returns the first subordinate uid of the daemon's user and the
// range size (0 when /etc/subuid has none: a single-uid mapping).
func ctSubUID(t *testing.T) (start, count int) {
	t.Helper()
	data, _ := os.ReadFile("/etc/subuid")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && (f[0] == harness.Identity().Name || f[0] == strconv.Itoa(harness.Identity().UID)) {
			start, _ = strconv.Atoi(f[1])
			count, _ = strconv.Atoi(f[2])
			return start, count
		}
	}
	return 0, 0
}

// ctCLI runs the docker CLI with a context that outlives t's, for cleanups,
// and returns its stdout whatever the exit code.
func ctCLI(t *testing.T, d *harness.Daemon, args ...string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctDockerPath(t), args...)
	cmd.Env, cmd.Dir = d.DockerEnv(), d.Home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: harness.Identity().Credential()}
	out, _ := cmd.Output()
	return string(out)
}

func ctDockerPath(t *testing.T) string {
	if p, err := exec.LookPath("docker"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/local/bin/docker"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker CLI not found")
		}
		t.Skip("docker CLI not found")
	}
	return "/usr/local/bin/docker"
}

// ctProc is a program running in the background as the daemon's user.
type ctProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	done  chan struct{}
}

func ctStart(t *testing.T, d *harness.Daemon, prog string, args ...string) *ctProc {
	t.Helper()
	p := &ctProc{cmd: exec.Command(prog, args...), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir = d.DockerEnv(), d.Home
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: harness.Identity().Credential()}
	p.stdin, _ = p.cmd.StdinPipe()
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(stdout)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				break
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *ctProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *ctProc) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		t.Fatal(err)
	}
}

func (p *ctProc) waitOutput(t *testing.T, s string) {
	t.Helper()
	harness.Poll(t, 15*time.Second, fmt.Sprintf("%q from %s", s, p.cmd.Args), func() (bool, string) {
		return strings.Contains(p.output(), s), p.output()
	})
}

// wait returns the exit code once the program ends (within 15s).
func (p *ctProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		t.Fatalf("%s still running; output %q", p.cmd.Args, p.output())
		return 0
	}
}
