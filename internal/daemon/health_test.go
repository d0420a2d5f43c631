package daemon

import (
	"slices"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
)

func TestMergeImageHealthcheck(t *testing.T) {
	img := dockerspec.DockerOCIImageConfig{DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 5},
	}}
	got := mergeImageConfig(container.Config{}, img).Healthcheck
	if got == nil || !slices.Equal(got.Test, []string{"CMD", "true"}) || got.Interval != time.Second {
		t.Fatalf("image healthcheck not inherited: %+v", got)
	}
	if got == img.Healthcheck {
		t.Error("merged healthcheck aliases the image's")
	}
	req := container.Config{Healthcheck: &container.HealthConfig{Interval: 2 * time.Second}}
	got = mergeImageConfig(req, img).Healthcheck
	if !slices.Equal(got.Test, []string{"CMD", "true"}) || got.Interval != 2*time.Second || got.Retries != 5 {
		t.Errorf("request fields not kept over the image's: %+v", got)
	}
	none := container.Config{Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}}
	if got = mergeImageConfig(none, img).Healthcheck; !slices.Equal(got.Test, []string{"NONE"}) {
		t.Errorf("--no-healthcheck overridden: %+v", got)
	}
	if got = mergeImageConfig(container.Config{}, dockerspec.DockerOCIImageConfig{}).Healthcheck; got != nil {
		t.Errorf("healthcheck from nowhere: %+v", got)
	}
}
