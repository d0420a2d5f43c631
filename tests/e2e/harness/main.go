package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// Bounds for the slow steps; generous because CI machines are small.
const (
	buildTimeout = 10 * time.Minute
	readyTimeout = 60 * time.Second
	stopTimeout  = 20 * time.Second
)

// run is the state Main sets up for one test binary.
var run struct {
	tmp    string          // per-run scratch dir (binary, images), mode 0755
	bin    string          // dockerd-lite binary
	id     daemon.Identity // who daemons and the CLI run as
	shared *Daemon         // the package's daemon; nil when skipped
	skip   string          // why daemon tests are skipped, if they are
}

// Main prepares the run, starts the shared daemon, runs the tests and stops
// the daemon. It returns the exit code for os.Exit: non-zero when the tests
// fail, the daemon cannot be built or started, or it does not stop cleanly.
func Main(m *testing.M) int {
	ctx := context.Background() // TestMain is an entry point, like main.
	if err := setup(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		cleanupRun(ctx)
		return 1
	}
	code := m.Run()
	if err := stopShared(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e teardown: %v\n", err)
		code = 1
	}
	cleanupRun(ctx)
	return code
}

func setup(ctx context.Context) error {
	var err error
	if run.tmp, err = os.MkdirTemp("", "dltest-run-"); err != nil {
		return fmt.Errorf("create run dir: %w", err)
	}
	if err := os.Chmod(run.tmp, 0o755); err != nil {
		return fmt.Errorf("chmod run dir: %w", err)
	}
	if run.id, err = daemon.CurrentIdentity(); err != nil {
		return err
	}
	if run.skip = probeUserns(ctx, run.id); run.skip != "" {
		fmt.Fprintf(os.Stderr, "e2e: skipping daemon tests: %s\n", run.skip)
		return nil
	}
	if err := buildBinary(ctx); err != nil {
		return err
	}
	return startShared(ctx)
}

func buildBinary(ctx context.Context) error {
	bctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	dir := run.tmp + "/bin"
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create bin dir: %w", err)
	}
	var err error
	run.bin, err = daemon.Build(bctx, dir)
	return err
}

func startShared(ctx context.Context) error {
	d, err := newDaemon(Options{})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := d.Daemon.Start(sctx); err != nil {
		_ = d.Cleanup(ctx)
		return fmt.Errorf("start shared daemon: %w", err)
	}
	run.shared = d
	return nil
}

func stopShared(ctx context.Context) error {
	d := run.shared
	if d == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	err := d.Stop(sctx)
	if err != nil {
		err = fmt.Errorf("stop shared daemon: %w\n--- daemon log tail ---\n%s", err, strings.Join(d.TailLog(50), "\n"))
	}
	if cerr := d.Cleanup(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func cleanupRun(ctx context.Context) {
	if run.tmp == "" {
		return
	}
	if err := daemon.RemoveAll(ctx, run.tmp); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: remove %s: %v\n", run.tmp, err)
	}
}

// probeUserns returns why id cannot create a user namespace, or "" when it
// can (or when util-linux unshare is missing, so the daemon will tell).
func probeUserns(ctx context.Context, id daemon.Identity) string {
	if _, err := exec.LookPath("unshare"); err != nil {
		return ""
	}
	cmd := exec.CommandContext(ctx, "unshare", "--user", "--map-root-user", "true")
	cmd.SysProcAttr = sysProcAttr(id)
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("the kernel refuses unprivileged user namespaces for %s (%v: %s)",
			id.Name, err, strings.TrimSpace(string(out)))
	}
	return ""
}

// Shared returns the package's daemon and arranges for the tail of its log
// to be printed if t fails. It skips t when user namespaces are unavailable.
func Shared(t testing.TB) *Daemon {
	t.Helper()
	skipIfNoDaemon(t)
	if run.shared == nil {
		t.Fatal("harness: no shared daemon; call harness.Main from TestMain")
	}
	run.shared.tailOnFailure(t)
	return run.shared
}

// Binary returns the dockerd-lite binary under test.
func Binary(t testing.TB) string {
	t.Helper()
	skipIfNoDaemon(t)
	return run.bin
}

// Identity returns the user daemons and the docker CLI run as.
func Identity() daemon.Identity { return run.id }

func skipIfNoDaemon(t testing.TB) {
	t.Helper()
	if run.skip != "" {
		t.Skip(run.skip)
	}
}
