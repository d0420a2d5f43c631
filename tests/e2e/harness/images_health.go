package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

// HealthcheckTag is the tag of the image HealthcheckImage writes.
const HealthcheckTag = "dltest/healthcheck:latest"

var healthImage struct {
	once sync.Once
	path string
	err  error
}

// HealthcheckImage returns a docker-archive of the busybox test image whose
// config has a HEALTHCHECK, as a Dockerfile's would leave it: test
// "CMD-SHELL test -e /tmp/healthy", interval 200ms, retries 2, and the
// command "sh -c 'touch /tmp/healthy; sleep 1000'". Built once per test
// binary; skipped like Images.
func HealthcheckImage(t testing.TB) string {
	t.Helper()
	Images(t) // the skip and the run directory
	healthImage.once.Do(func() { healthImage.path, healthImage.err = buildHealthImage(t.Context()) })
	if healthImage.err != nil {
		t.Fatalf("harness: %v", healthImage.err)
	}
	return healthImage.path
}

func buildHealthImage(ctx context.Context) (string, error) {
	img, err := testimage.Image(context.WithoutCancel(ctx), testimage.DefaultBusybox)
	if err != nil {
		return "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("read test image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Healthcheck = &v1.HealthConfig{
		Test: []string{"CMD-SHELL", "test -e /tmp/healthy"}, Interval: 200 * time.Millisecond, Retries: 2,
	}
	cfg.Config.Cmd = []string{"sh", "-c", "touch /tmp/healthy; sleep 1000"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", fmt.Errorf("set healthcheck: %w", err)
	}
	tag, err := name.NewTag(HealthcheckTag)
	if err != nil {
		return "", err
	}
	path := filepath.Join(run.tmp, "images", "healthcheck.tar")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return "", fmt.Errorf("write healthcheck image: %w", err)
	}
	return path, nil
}
