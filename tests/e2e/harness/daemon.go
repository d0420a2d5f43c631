package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// Options configure an extra daemon started with NewDaemon.
type Options struct {
	// Hosts are -H values (e.g. "tcp://127.0.0.1:2376"); the default socket
	// $XDG_RUNTIME_DIR/docker.sock when empty.
	Hosts []string
	// Args are extra flags.
	Args []string
	// Env holds extra KEY=VALUE pairs for the daemon.
	Env []string
	// DataRoot overrides the daemon's own temporary data root.
	DataRoot string
	// Ready replaces the default readiness check (GET /_ping on the default
	// socket); needed when Hosts has no unix socket.
	Ready func(ctx context.Context) error
}

// Daemon is a dockerd-lite under test. The embedded *daemon.Daemon gives
// PID, LogPath, SocketPath, DataRoot, TailLog and the other paths.
type Daemon struct {
	*daemon.Daemon
	dockerConfig string
	ready        bool // Start succeeded: exiting before cleanup is a failure
}

func newDaemon(o Options) (*Daemon, error) {
	d, err := daemon.New(daemon.Config{
		Binary: run.bin, Identity: run.id, Hosts: o.Hosts, Args: o.Args,
		Env: o.Env, DataRoot: o.DataRoot, Ready: o.Ready,
	})
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(d.BaseDir, "docker-config")
	if err := os.Mkdir(cfg, 0o700); err != nil {
		return nil, fmt.Errorf("create docker config dir: %w", err)
	}
	if err := run.id.Chown(cfg); err != nil {
		return nil, err
	}
	return &Daemon{Daemon: d, dockerConfig: cfg}, nil
}

// NewDaemon prepares an extra daemon without starting it; call Start (or
// Launch and WaitExit for daemons expected to fail). When t ends, a running
// daemon is stopped with SIGTERM (t fails unless it exits cleanly in time)
// and its directories are removed.
func NewDaemon(t testing.TB, o Options) *Daemon {
	t.Helper()
	skipIfNoDaemon(t)
	d, err := newDaemon(o)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(func() { d.cleanupExtra(t) })
	return d
}

// cleanupExtra stops the daemon if it still runs, prints the log tail if t
// failed, then removes the daemon's directories - in that order, so the
// tail explains a failed stop and is read before the log is deleted.
func (d *Daemon) cleanupExtra(t testing.TB) {
	ctx := context.WithoutCancel(t.Context())
	switch {
	case d.PID() == 0:
	case d.exited():
		// Stopped by the test, or died: only an unclean exit of a daemon
		// that had been ready is a failure here.
		if err := d.Stop(ctx); err != nil && d.ready {
			t.Errorf("harness: daemon pid %d died during the test: %v", d.PID(), err)
		}
	default:
		sctx, cancel := context.WithTimeout(ctx, stopTimeout)
		if err := d.Stop(sctx); err != nil {
			t.Errorf("harness: %v", err)
		}
		cancel()
	}
	if t.Failed() {
		d.logTail(t)
	}
	if err := d.Cleanup(ctx); err != nil {
		t.Errorf("harness: %v", err)
	}
}

func (d *Daemon) exited() bool {
	select {
	case <-d.Exited():
		return true
	default:
		return false
	}
}

// Start launches the daemon and waits for readiness; t fails on error.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	if err := d.Daemon.Start(ctx); err != nil {
		t.Fatalf("harness: start daemon: %v", err)
	}
	d.ready = true
}

// Launch executes the daemon without waiting for readiness.
func (d *Daemon) Launch(t testing.TB) {
	t.Helper()
	if err := d.Daemon.Launch(); err != nil {
		t.Fatalf("harness: %v", err)
	}
}

// WaitExit waits up to timeout for the daemon to exit and returns its exit
// code; t fails if it is still running then.
func (d *Daemon) WaitExit(t testing.TB, timeout time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	code, err := d.Wait(ctx)
	if err != nil {
		t.Fatalf("harness: daemon pid %d did not exit: %v", d.PID(), err)
	}
	return code
}

// tailOnFailure prints the last 50 lines of the daemon log if t fails.
func (d *Daemon) tailOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if t.Failed() {
			d.logTail(t)
		}
	})
}

func (d *Daemon) logTail(t testing.TB) {
	t.Logf("--- tail of daemon log %s ---\n%s", d.LogPath(), strings.Join(d.TailLog(50), "\n"))
}

// Processes returns the daemon's process tree: the parent first, then every
// live descendant (the namespaced daemon, slirp4netns, shims...).
func (d *Daemon) Processes() []int { return daemon.Tree(d.PID()) }

// TempDir returns a directory owned by the daemon's user (mode 0755) that the
// docker CLI can read and write; t.TempDir is private to root in CI.
func TempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is 0700 too.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := run.id.Chown(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteFile writes a file the daemon's user owns and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := run.id.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func sysProcAttr(id daemon.Identity) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: id.Credential()}
}
