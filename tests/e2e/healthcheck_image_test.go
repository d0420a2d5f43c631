package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestHealthcheckFromImage: an image whose config has a HEALTHCHECK keeps
// it through docker load (image inspect shows it) and a container created
// from it reaches healthy without --health-cmd; --no-healthcheck disables it.
func TestHealthcheckFromImage(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	d.DockerOK(t, "load", "-i", harness.HealthcheckImage(t))
	hc := strings.TrimSpace(d.DockerOK(t, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", harness.HealthcheckTag))
	if !strings.Contains(hc, `"CMD-SHELL","test -e /tmp/healthy"`) || !strings.Contains(hc, `"Retries":2`) {
		t.Fatalf("image inspect Config.Healthcheck = %s", hc)
	}
	id := strings.TrimSpace(d.DockerOK(t, "run", "-d", harness.HealthcheckTag))
	harness.Poll(t, 20*time.Second, "healthy from the image's HEALTHCHECK", func() (bool, string) {
		s := monInspect(t, d, id, "{{.State.Health.Status}}")
		return s == "healthy", s
	})
	if got := monInspect(t, d, id, "{{json .Config.Healthcheck.Test}}"); got != `["CMD-SHELL","test -e /tmp/healthy"]` {
		t.Errorf("container Config.Healthcheck.Test = %s", got)
	}
	none := strings.TrimSpace(d.DockerOK(t, "run", "-d", "--no-healthcheck", harness.HealthcheckTag))
	if got := monInspect(t, d, none, "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"); got != "none" {
		t.Errorf("--no-healthcheck: health = %q", got)
	}
	// docker commit keeps the healthcheck in the new image.
	d.DockerOK(t, "commit", id, "dltest/committed-health:1")
	if hc := d.DockerOK(t, "image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", "dltest/committed-health:1"); !strings.Contains(hc, "test -e /tmp/healthy") {
		t.Errorf("committed image healthcheck = %s", hc)
	}
}
