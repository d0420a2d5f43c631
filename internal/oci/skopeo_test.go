package oci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSaveReadableBySkopeo checks a saved archive with skopeo (when
// installed) as docker-archive and as oci-archive.
func TestSaveReadableBySkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo not installed")
	}
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	img := importImage(t, s, "skopeo/test:1", "content")
	path := filepath.Join(t.TempDir(), "save.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, []string{"skopeo/test:1"}, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, transport := range []string{"docker-archive:", "oci-archive:"} {
		out, err := exec.Command(skopeo, "inspect", "--config", transport+path).CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v: %s", transport, err, out)
		}
		var cfg struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil || len(cfg.RootFS.DiffIDs) != 1 {
			t.Errorf("skopeo %s config: %v %s", transport, err, out)
		}
	}
	_ = img
}
