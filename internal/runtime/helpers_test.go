package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/log"
	"github.com/opencontainers/runtime-spec/specs-go"
)

var (
	rootfsOnce sync.Once
	rootfsDir  string
	rootfsErr  error
)

// testRootfs builds, once per test binary, a root filesystem from Debian's
// busybox-static: /bin/busybox plus a symlink for each applet.
func testRootfs(t testing.TB) string {
	t.Helper()
	rootfsOnce.Do(func() { rootfsDir, rootfsErr = buildRootfs() })
	if rootfsErr != nil {
		t.Skipf("no busybox rootfs (apt-get install busybox-static): %v", rootfsErr)
	}
	return rootfsDir
}

func buildRootfs() (string, error) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("file", "-L", bb).Output(); err == nil && !bytes.Contains(out, []byte("statically")) {
		return "", fmt.Errorf("%s is not statically linked", bb)
	}
	dir, err := os.MkdirTemp("", "dlrootfs")
	if err != nil {
		return "", err
	}
	for _, d := range []string{"bin", "proc", "sys", "dev", "etc", "tmp", "root", "sbin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := copyFile(bb, filepath.Join(dir, "bin/busybox")); err != nil {
		return "", err
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return "", err
	}
	for _, applet := range strings.Fields(string(list)) {
		_ = os.Symlink("busybox", filepath.Join(dir, "bin", applet))
	}
	return dir, os.Chmod(dir, 0o755)
}

func cleanupRootfs() {
	if rootfsDir != "" {
		os.RemoveAll(rootfsDir)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// testCtx returns a context whose logger writes to t.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return log.WithLogger(ctx, log.L.WithField("test", t.Name()))
}

// newTestRuntime returns a Runtime on short temporary roots (unix socket
// paths are limited) and kills its containers when the test ends.
func newTestRuntime(t testing.TB) (*Runtime, string) {
	t.Helper()
	requireUserns(t)
	dir, err := os.MkdirTemp("", "dlrt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Opt{RunRoot: filepath.Join(dir, "run"), StateRoot: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRuntime(r, dir) })
	return r, dir
}

func cleanupRuntime(r *Runtime, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, _ := r.Restore(ctx)
	for _, id := range ids {
		_ = r.Signal(ctx, id, syscall.SIGKILL)
		_, _ = r.Wait(ctx, id)
		_ = r.Delete(ctx, id)
	}
	os.RemoveAll(dir)
}

// testSpec builds a spec for args on the busybox rootfs.
func testSpec(t testing.TB, mod func(*SpecOpt), args ...string) *specs.Spec {
	t.Helper()
	opt := SpecOpt{Rootfs: testRootfs(t), Args: args, Hostname: "ctr"}
	if !SeccompSupported {
		opt.Seccomp = "unconfined" // TestSeccomp covers the profile with -tags seccomp
	}
	if mod != nil {
		mod(&opt)
	}
	s, err := NewSpec(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run creates, starts and waits for a container; it returns the exit
// status and the container's log.
func run(t testing.TB, r *Runtime, id string, spec *specs.Spec, io IOOpt) (ExitStatus, string) {
	t.Helper()
	ctx := testCtx(t)
	if err := r.Create(ctx, id, spec, io); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := r.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	ex, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(r.stateDir(id), defaultLog))
	return ex, string(b)
}

// startSleeper starts a long-running container.
func startSleeper(t testing.TB, r *Runtime, id string) {
	t.Helper()
	ctx := testCtx(t)
	if err := r.Create(ctx, id, testSpec(t, nil, "sleep", "1000"), IOOpt{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := r.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// Helper process modes, run from TestMain inside the user namespace.
const envHelper = "_DLTEST_HELPER"

// helperMain acts as a short-lived "daemon" that starts a container and
// then waits to be killed; it reports true when it ran.
func helperMain() bool {
	if os.Getenv(envHelper) != "daemon" {
		return false
	}
	dir := os.Getenv("_DLTEST_DIR")
	ctx := context.Background()
	r, err := New(Opt{RunRoot: filepath.Join(dir, "run"), StateRoot: filepath.Join(dir, "state")})
	if err == nil {
		err = r.Create(ctx, "live", specFromEnv(), IOOpt{})
	}
	if err == nil {
		_, err = r.Start(ctx, "live")
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("started")
	select {}
}

func specFromEnv() *specs.Spec {
	s, err := NewSpec(SpecOpt{Rootfs: os.Getenv("_DLTEST_ROOTFS"),
		Args: []string{"sh", "-c", "while true; do echo tick; sleep 0.1; done"}, Seccomp: "unconfined"})
	if err != nil {
		panic(err)
	}
	return s
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
