package runtime

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestExecExitCodeAndStreams(t *testing.T) {
	r, _ := newTestRuntime(t)
	startSleeper(t, r, "c1")
	ctx := testCtx(t)
	var out, errb bytes.Buffer
	var pid int
	p := &specs.Process{Args: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, Cwd: "/", Env: []string{defaultPath}}
	ex, err := r.Exec(ctx, "c1", "e1", p, ExecOpt{Stdout: &out, Stderr: &errb, Started: func(p int) { pid = p }})
	if err != nil {
		t.Fatal(err)
	}
	if ex.ExitCode != 7 || out.String() != "out\n" || errb.String() != "err\n" || pid == 0 {
		t.Fatalf("exit %+v stdout %q stderr %q pid %d", ex, out.String(), errb.String(), pid)
	}
	out.Reset()
	p = &specs.Process{Args: []string{"cat"}, Cwd: "/", Env: []string{defaultPath}}
	ex, err = r.Exec(ctx, "c1", "e2", p, ExecOpt{Stdin: strings.NewReader("abc"), Stdout: &out})
	if err != nil || ex.ExitCode != 0 || out.String() != "abc" {
		t.Fatalf("cat exec: %v %+v %q", err, ex, out.String())
	}
}

func TestExecTty(t *testing.T) {
	r, _ := newTestRuntime(t)
	startSleeper(t, r, "c1")
	var out bytes.Buffer
	p := &specs.Process{Args: []string{"sh", "-c", "tty; stty size"}, Cwd: "/", Env: []string{defaultPath},
		ConsoleSize: &specs.Box{Height: 30, Width: 100}}
	ex, err := r.Exec(testCtx(t), "c1", "e1", p, ExecOpt{Tty: true, Stdout: &out})
	if err != nil || ex.ExitCode != 0 {
		t.Fatalf("exec: %v %+v", err, ex)
	}
	if !strings.Contains(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "30 100") {
		t.Fatalf("tty exec output %q", out.String())
	}
}

func TestSignalKill(t *testing.T) {
	r, _ := newTestRuntime(t)
	startSleeper(t, r, "c1")
	ctx := testCtx(t)
	st, err := r.State(ctx, "c1")
	if err != nil || !st.Running || st.Pid == 0 {
		t.Fatalf("state %+v %v", st, err)
	}
	pids, err := r.Pids(ctx, "c1")
	if err != nil || len(pids) != 1 || pids[0] != st.Pid {
		t.Fatalf("pids %v %v (init %d)", pids, err, st.Pid)
	}
	if err := r.Signal(ctx, "c1", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ex, err := r.Wait(ctx, "c1")
	if err != nil || ex.ExitCode != 137 || ex.Signal != int(syscall.SIGKILL) {
		t.Fatalf("wait %+v %v", ex, err)
	}
	st, err = r.State(ctx, "c1")
	if err != nil || st.Running || st.Exit == nil || st.Exit.ExitCode != 137 {
		t.Fatalf("state after kill %+v %v", st, err)
	}
	if err := r.Signal(ctx, "c1", syscall.SIGKILL); err == nil {
		t.Fatal("signal to a stopped container succeeded")
	}
	if err := r.Delete(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.State(ctx, "c1"); err == nil {
		t.Fatal("state of a deleted container succeeded")
	}
}

func TestAttachStdin(t *testing.T) {
	r, _ := newTestRuntime(t)
	ctx := testCtx(t)
	if err := r.Create(ctx, "c1", testSpec(t, nil, "sh", "-c", "cat; echo done >&2"), IOOpt{OpenStdin: true}); err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuffer
	attached := make(chan error, 1)
	go func() {
		attached <- r.Attach(ctx, "c1", AttachOpt{Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &errb, CloseStdin: true})
	}()
	// cat only writes once the attach fed it, so no output can be missed
	// even if Start wins the race with Attach.
	if _, err := r.Start(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := <-attached; err != nil {
		t.Fatal(err)
	}
	ex, err := r.Wait(ctx, "c1")
	if err != nil || ex.ExitCode != 0 || out.String() != "hello\n" || errb.String() != "done\n" {
		t.Fatalf("exit %+v %v stdout %q stderr %q", ex, err, out.String(), errb.String())
	}
}

func TestRestoreAfterDaemonKill(t *testing.T) {
	requireUserns(t)
	_, dir := newTestRuntime(t)
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"=daemon", "_DLTEST_DIR="+dir, "_DLTEST_ROOTFS="+testRootfs(t))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if line != "started\n" {
		t.Fatalf("helper daemon: %q", line)
	}
	r, err := New(Opt{RunRoot: filepath.Join(dir, "run"), StateRoot: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	ids, err := r.Restore(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "live" {
		t.Fatalf("restore: %v %v", ids, err)
	}
	st, err := r.State(ctx, "live")
	if err != nil || !st.Running {
		t.Fatalf("state after daemon kill: %+v %v", st, err)
	}
	var out bytes.Buffer
	ex, err := r.Exec(ctx, "live", "e1", &specs.Process{Args: []string{"echo", "still here"}, Cwd: "/", Env: []string{defaultPath}}, ExecOpt{Stdout: &out})
	if err != nil || ex.ExitCode != 0 || out.String() != "still here\n" {
		t.Fatalf("exec after restore: %v %+v %q", err, ex, out.String())
	}
	var live syncBuffer
	actx, cancel := context.WithCancel(ctx)
	go func() { _ = r.Attach(actx, "live", AttachOpt{Stdout: &live}) }()
	waitFor(t, func() bool { return strings.Contains(live.String(), "tick") })
	cancel()
	if err := r.Signal(ctx, "live", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ex, err := r.Wait(ctx, "live"); err != nil || ex.ExitCode != 137 {
		t.Fatalf("wait after restore: %+v %v", ex, err)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
