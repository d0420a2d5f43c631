package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/image"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// imageID returns the ID of ref, or fails t.
func imageID(t *testing.T, d *harness.Daemon, ref string) string {
	t.Helper()
	return strings.TrimSpace(d.DockerOK(t, "image", "inspect", "--format", "{{.Id}}", ref))
}

// inspect returns the Go client's inspect of ref, or fails t.
func inspect(t *testing.T, d *harness.Daemon, ref string) image.InspectResponse {
	t.Helper()
	res, err := d.Client(t).ImageInspect(t.Context(), ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	return res.InspectResponse
}

// assertNoImage fails t unless docker image inspect says ref is gone.
func assertNoImage(t *testing.T, d *harness.Daemon, ref string) {
	t.Helper()
	r := d.Docker(t, "image", "inspect", ref)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "No such image: "+ref) {
		t.Errorf("image inspect %s: want exit 1 and 'No such image', got\n%s", ref, r)
	}
}

// wantRemove checks a docker rmi result: exit 0, stdout starting with
// untagged, then - when deleted is set - "Deleted: <deleted>" and layer
// deletions only.
func wantRemove(t *testing.T, r harness.Result, untagged, deleted string) {
	t.Helper()
	rest, ok := strings.CutPrefix(r.Stdout, untagged)
	if deleted == "" {
		ok = ok && rest == ""
	} else {
		ok = ok && strings.HasPrefix(rest, "Deleted: "+deleted+"\n")
		for _, l := range strings.Split(strings.TrimSpace(rest), "\n") {
			ok = ok && strings.HasPrefix(l, "Deleted: sha256:")
		}
	}
	if r.ExitCode != 0 || !ok {
		t.Errorf("want exit 0, %q then deleted %q, got\n%s", untagged, deleted, r)
	}
}

// loadRandom docker-loads a new random image tagged ref and returns ref.
func loadRandom(t *testing.T, d *harness.Daemon, ref string) string {
	t.Helper()
	return loadRandomLabels(t, d, ref, nil)
}

func loadRandomLabels(t *testing.T, d *harness.Daemon, ref string, labels map[string]string) string {
	t.Helper()
	img := harness.RandomImage(t, harness.ImageSpec{Labels: labels, Cmd: []string{"/no-such-binary"}})
	path := filepath.Join(harness.TempDir(t), "image.tar")
	harness.WriteDockerArchive(t, path, map[string]v1.Image{ref: img})
	d.DockerOK(t, "load", "-i", path)
	return ref
}

func sortedLines(s string) []string {
	l := strings.Fields(s)
	slices.Sort(l)
	return l
}

// unixArg formats t as docker events --since/--until take it.
func unixArg(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func jsonEqual(a, b any) bool { return mustJSON(a) == mustJSON(b) }
