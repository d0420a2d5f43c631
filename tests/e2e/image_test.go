package e2e

import (
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestLoadTestImage loads the harness's busybox docker-archive and checks
// the daemon reports the image ID the archive was built with (the config
// digest, as in Docker).
func TestLoadTestImage(t *testing.T) {
	d := harness.Shared(t)
	img := harness.Images(t)
	tag := d.LoadBusybox(t)
	id := strings.TrimSpace(d.DockerOK(t, "image", "inspect", "--format", "{{.Id}}", tag))
	if id != img.ImageID {
		t.Errorf("loaded %s has id %s, want %s", tag, id, img.ImageID)
	}
}

// TestLoadTestImageOCIArchive loads the same image from the OCI archive
// (index.json with io.containerd.image.name), as `docker load` accepts from
// Docker 25 on.
func TestLoadTestImageOCIArchive(t *testing.T) {
	d := harness.Shared(t)
	img := harness.Images(t)
	out := d.DockerOK(t, "load", "-i", img.OCIArchive)
	if !strings.Contains(out, img.Tag) && !strings.Contains(out, img.ImageID) {
		t.Errorf("docker load of the OCI archive printed %q, want %s or %s", out, img.Tag, img.ImageID)
	}
	id := strings.TrimSpace(d.DockerOK(t, "image", "inspect", "--format", "{{.Id}}", img.Tag))
	if id != img.ImageID {
		t.Errorf("%s has id %s, want %s", img.Tag, id, img.ImageID)
	}
}
