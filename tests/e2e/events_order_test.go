package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestEventsOrderOfStartAndStop: a container's start and stop emit the
// network connect and disconnect events, in dockerd's order (die before
// the disconnect and before stop).
func TestEventsOrderOfStartAndStop(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	since := time.Now()
	id := ctRunD(t, d, img, "sleep", "300")
	d.DockerOK(t, "stop", "-t", "0", id)
	// sleep ignores SIGTERM as pid 1: stop -t 0 kills twice (15, then 9), as with dockerd
	want := []string{"container create", "network connect", "container start", "container kill", "container kill",
		"container die", "network disconnect", "container stop"}
	var got []string
	harness.Poll(t, 10*time.Second, "the container's events", func() (bool, string) {
		out := d.DockerOK(t, "events", "--since", ctUnix(since), "--until", ctUnix(time.Now()), "--format", "{{json .}}")
		got = nil
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var ev struct {
				Type, Action string
				Actor        struct {
					ID         string
					Attributes map[string]string
				}
			}
			if json.Unmarshal([]byte(line), &ev) == nil && (ev.Actor.ID == id || ev.Actor.Attributes["container"] == id) {
				got = append(got, ev.Type+" "+ev.Action)
			}
		}
		return slices.Contains(got, "container stop"), out
	})
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
}
