package netns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
)

// runResult is what one run of the test target produced.
type runResult struct {
	report   targetReport
	err      error  // Run's result
	logs     string // what Run logged
	stateDir string
}

// stopper ends a target that waits for a signal.
type stopper func(cancel context.CancelFunc)

// bySignal sends sig to this test process; Run must forward it.
func bySignal(sig syscall.Signal) stopper {
	return func(context.CancelFunc) { syscall.Kill(os.Getpid(), sig) }
}

// byCancel cancels Run's context; Run must turn that into SIGTERM.
func byCancel(cancel context.CancelFunc) { cancel() }

// runTarget runs the test binary as the daemon through run with plan p. With
// stop set the target waits for a signal after reporting, and stop is
// called to deliver one.
func runTarget(t *testing.T, p plan, stop stopper) runResult {
	t.Helper()
	return runTargetWith(t, func(ctx context.Context, opt Opt) error {
		if err := prepare(opt); err != nil {
			return err
		}
		return run(ctx, opt, p)
	}, stop)
}

// runTargetWith is runTarget with the way of starting the target given.
func runTargetWith(t *testing.T, start func(context.Context, Opt) error, stop stopper) runResult {
	t.Helper()
	dir := sharedTempDir(t)
	sock := filepath.Join(dir, "test.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	lf, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	mode := "report"
	if stop != nil {
		mode = "wait-signal"
	}
	opt := Opt{
		StateDir:   filepath.Join(dir, "state"),
		TargetArgs: []string{targetExecutable(t, dir), "-test.run=^$"},
		TargetEnv:  []string{testTargetEnv + "=" + mode, "NETNS_TEST_EXTRA=hello"},
		ExtraFiles: []*os.File{lf},
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(testLogger(t.Context(), &logs))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- start(ctx, opt) }()
	rep, rerr := readReport(sock)
	if rerr == nil && stop != nil {
		stop(cancel)
	}
	res := runResult{report: rep, err: waitRun(t, errc), logs: logs.String(), stateDir: opt.StateDir}
	if rerr != nil {
		t.Fatalf("read report: %v (run: %v)", rerr, res.err)
	}
	return res
}

func waitRun(t *testing.T, errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("run did not return")
		return nil
	}
}

func readReport(sock string) (targetReport, error) {
	var rep targetReport
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	err = json.NewDecoder(conn).Decode(&rep)
	return rep, err
}

func testLogger(ctx context.Context, w io.Writer) context.Context {
	l := logrus.New()
	l.SetOutput(w)
	l.SetLevel(logrus.DebugLevel)
	return log.WithLogger(ctx, logrus.NewEntry(l))
}

// sharedTempDir returns a directory that every uid may traverse, because in
// root mode and in the root-run single-id test the target runs as another
// host uid and must reach its executable.
func sharedTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "netns-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// targetExecutable copies the test binary into dir (mode 0755) when running
// as root; otherwise the test binary itself is used.
func targetExecutable(t *testing.T, dir string) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return exe
	}
	dst := filepath.Join(dir, "target.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// skipIfNoUserNS skips when the kernel refuses a user namespace.
func skipIfNoUserNS(t *testing.T) {
	t.Helper()
	if _, err := ProbeOverlay(t.Context(), t.TempDir()); errors.Is(err, ErrUserNamespace) {
		t.Skipf("kernel refuses user namespaces: %v", err)
	}
}

func parseMapOrFatal(t *testing.T, s string) []IDRange {
	t.Helper()
	rs, err := parseIDMap(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkCommon asserts what every mode must deliver.
func checkCommon(t *testing.T, res runResult) {
	t.Helper()
	rep := res.report
	if rep.EUID != 0 || rep.EGID != 0 {
		t.Errorf("target ids = %d/%d, want 0/0 in the namespace", rep.EUID, rep.EGID)
	}
	if !rep.HasSysAdmin {
		t.Error("target lacks CAP_SYS_ADMIN in its user namespace")
	}
	if !rep.Fd3IsSocket || rep.ListenFDs != "1" || !rep.ListenPIDOK {
		t.Errorf("socket activation: fd3 socket=%v LISTEN_FDS=%q LISTEN_PID ok=%v", rep.Fd3IsSocket, rep.ListenFDs, rep.ListenPIDOK)
	}
	for fd, target := range rep.Fds {
		if strings.HasPrefix(target, "pipe:") || strings.HasPrefix(target, "socket:") {
			t.Errorf("fd %d (%s) leaked into the target", fd, target)
		}
	}
	if rep.Extra != "hello" || len(rep.PrivateEnv) != 0 {
		t.Errorf("env: extra=%q private=%q", rep.Extra, rep.PrivateEnv)
	}
	if rep.ParentEUID == "" {
		t.Errorf("%s not set", ParentEUIDEnv)
	}
}

func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	var ee *exec.ExitError
	if code == 0 && err == nil {
		return
	}
	if !errors.As(err, &ee) || ee.ExitCode() != code {
		t.Errorf("run error = %v, want exit status %d", err, code)
	}
}
