package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

var images struct {
	once sync.Once
	res  testimage.Result
	err  error
}

// Images returns the busybox test image (docker-archive, OCI archive and OCI
// layout), built once per test binary from /bin/busybox into the run's
// scratch directory, readable by the daemon's user. t is skipped outside CI
// when busybox-static is missing.
func Images(t testing.TB) testimage.Result {
	t.Helper()
	if _, err := os.Stat(testimage.DefaultBusybox); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("busybox-static missing (%v); hack/setup-host.sh installs it", err)
		}
		t.Skipf("busybox-static missing (%v); run hack/setup-host.sh", err)
	}
	images.once.Do(func() { images.res, images.err = buildImages(t.Context()) })
	if images.err != nil {
		t.Fatalf("harness: %v", images.err)
	}
	return images.res
}

func buildImages(ctx context.Context) (testimage.Result, error) {
	if run.tmp == "" {
		return testimage.Result{}, fmt.Errorf("build test images: call harness.Main from TestMain")
	}
	dir := filepath.Join(run.tmp, "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return testimage.Result{}, fmt.Errorf("build test images: %w", err)
	}
	// The build must not die with the first test's context.
	return testimage.Build(context.WithoutCancel(ctx), testimage.Options{OutDir: dir})
}

// LoadBusybox runs `docker load -i` with the busybox docker-archive and
// returns the loaded tag; t fails unless the CLI reports it loaded.
func (d *Daemon) LoadBusybox(t testing.TB) string {
	t.Helper()
	img := Images(t)
	out := d.DockerOK(t, "load", "-i", img.DockerArchive)
	if !strings.Contains(out, img.Tag) {
		t.Fatalf("docker load printed %q, want it to name %s", out, img.Tag)
	}
	return img.Tag
}
