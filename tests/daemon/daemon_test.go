package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeEnv makes the test binary act as a stand-in daemon, so the launcher
// is tested without the real dockerd-lite.
const fakeEnv = "DLTEST_FAKE_DAEMON"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeDaemon(mode))
	}
	os.Exit(m.Run())
}

// fakeDaemon serves /_ping on $XDG_RUNTIME_DIR/docker.sock. Mode "serve"
// exits 0 on SIGTERM, "hang" ignores SIGTERM, "fail" exits 3 at once.
func fakeDaemon(mode string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "fake: refusing to start")
		return 3
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	l, err := net.Listen("unix", filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "docker.sock"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") }))
	}()
	fmt.Fprintf(os.Stderr, "fake: serving as uid %d, args %v\n", os.Getuid(), os.Args[1:])
	for range sigs {
		if mode != "hang" {
			return 0
		}
	}
	return 0
}

// fakeConfig copies the test binary where the daemon's user can run it.
func fakeConfig(t *testing.T, mode string) Config {
	t.Helper()
	id, err := CurrentIdentity()
	if err != nil {
		t.Skipf("no identity to run the fake daemon as: %v", err)
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, p := range []string{dir, filepath.Dir(dir)} { // t.TempDir is 0700
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "fake-dockerd")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	return Config{Binary: bin, Identity: id, Env: []string{fakeEnv + "=" + mode}}
}

func startFake(t *testing.T, mode string) *Daemon {
	t.Helper()
	d, err := New(fakeConfig(t, mode))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Kill()
		if err := d.Cleanup(context.WithoutCancel(t.Context())); err != nil {
			t.Error(err)
		}
	})
	return d
}

func TestStartStop(t *testing.T) {
	d := startFake(t, "serve")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := UIDs(d.PID())
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != d.Identity().UID {
		t.Errorf("fake runs as uid %d, want %d", ids[0], d.Identity().UID)
	}
	if err := d.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
	if !strings.Contains(d.Log(), "--data-root "+d.DataRoot) {
		t.Errorf("log does not show the data root flag:\n%s", d.Log())
	}
}

func TestStartFailureReportsLog(t *testing.T) {
	d := startFake(t, "fail")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := d.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("Start = %v, want an error carrying the log", err)
	}
	if code, _ := d.Wait(ctx); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

func TestStopKillsHungDaemon(t *testing.T) {
	d := startFake(t, "hang")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	if err := d.Stop(sctx); err == nil {
		t.Fatal("Stop of a daemon ignoring SIGTERM succeeded")
	}
	select {
	case <-d.Exited():
	default:
		t.Error("hung daemon still running after Stop")
	}
}
