package testimage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestBuild(t *testing.T) {
	if _, err := os.Stat(DefaultBusybox); err != nil {
		t.Skipf("busybox-static not installed (%v); run hack/setup-host.sh", err)
	}
	dir := t.TempDir()
	res, err := Build(t.Context(), Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	assertDockerArchive(t, res.DockerArchive, &manifest)
	if len(manifest) != 1 || len(manifest[0].RepoTags) != 1 || manifest[0].RepoTags[0] != DefaultTag {
		t.Fatalf("manifest.json = %+v, want one image tagged %s", manifest, DefaultTag)
	}
	if len(manifest[0].Layers) != 1 {
		t.Fatalf("layers = %v, want 1", manifest[0].Layers)
	}
	for _, f := range []string{"index.json", "oci-layout"} {
		if _, err := os.Stat(filepath.Join(res.LayoutDir, f)); err != nil {
			t.Errorf("layout: %v", err)
		}
	}
	again, err := Build(t.Context(), Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if again.ImageID != res.ImageID {
		t.Errorf("image id not reproducible: %s then %s", res.ImageID, again.ImageID)
	}
}

func assertDockerArchive(t *testing.T, path string, manifest any) {
	t.Helper()
	data := readTarMember(t, path, "manifest.json")
	if err := json.Unmarshal(data, manifest); err != nil {
		t.Fatalf("parse manifest.json: %v", err)
	}
}
