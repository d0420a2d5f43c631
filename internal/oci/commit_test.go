package oci

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// newContainerLayer imports a base image and returns it with a read-write
// layer in which bin/new was added, bin/sh changed and etc/gone deleted.
func newContainerLayer(t *testing.T, s *Store) (Image, string) {
	t.Helper()
	ctx := testCtx(t)
	rootfs := tarOf(t, [2]string{"bin/", ""}, [2]string{"bin/sh", "shell"}, [2]string{"etc/", ""}, [2]string{"etc/gone", "x"})
	base, err := s.Import(ctx, bytes.NewReader(rootfs), ImportOpt{Ref: "base:1", Changes: []string{"ENV A=1", `CMD ["sh"]`}})
	if err != nil {
		t.Fatal(err)
	}
	id := "ctr-commit"
	if _, err := s.CreateRWLayer(ctx, base.ID, id); err != nil {
		t.Fatal(err)
	}
	root, err := s.Mount(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unmount(ctx, id)
	for p, data := range map[string]string{"bin/new": "new", "bin/sh": "shell2"} {
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(root, "etc/gone")); err != nil {
		t.Fatal(err)
	}
	return base, id
}

func TestChangesAndDiffSize(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	_, id := newContainerLayer(t, s)
	list, err := s.Changes(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range list {
		got[c.Path] = c.Kind
	}
	want := map[string]int{"/bin/new": ChangeAdd, "/bin/sh": ChangeModify, "/etc/gone": ChangeDelete}
	for p, k := range want {
		if got[p] != k {
			t.Errorf("change of %s = %v, want %d (all: %v)", p, got[p], k, list)
		}
	}
	if n, err := s.DiffSize(ctx, id); err != nil || n < int64(len("new")+len("shell2")) {
		t.Errorf("diff size %d, %v", n, err)
	}
	if _, err := s.Changes(ctx, "nope"); err == nil {
		t.Error("changes of an unknown layer succeeded")
	}
}

func TestCommit(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	base, id := newContainerLayer(t, s)
	img, err := s.Commit(ctx, CommitOpt{
		LayerID: id, ImageID: base.ID, Ref: "committed:1", Changes: []string{`CMD ["cat", "/bin/new"]`},
		Base: base.Config.Config, Comment: "msg", Author: "me", CreatedBy: "sh",
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if img.Parent != base.ID || !slices.Equal(img.RepoTags, []string{"committed:1"}) || img.Config.Author != "me" {
		t.Errorf("image %+v", img)
	}
	c := img.Config.Config
	if !slices.Equal(c.Cmd, []string{"cat", "/bin/new"}) || !slices.Equal(c.Env, []string{"A=1"}) {
		t.Errorf("config %+v", c)
	}
	h := img.Config.History[len(img.Config.History)-1]
	if h.Comment != "msg" || h.CreatedBy != "sh" || h.EmptyLayer || len(img.Config.RootFS.DiffIDs) != 2 || len(img.Layers) != 2 {
		t.Errorf("history %+v, diff ids %v", h, img.Config.RootFS.DiffIDs)
	}
	checkRootfs(t, s, img.ID, map[string]string{"bin/new": "new", "bin/sh": "shell2"}, "etc/gone")
	assertNoStrayBlobs(t, s)
}

func TestCommitFailureLeavesNothing(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	base, id := newContainerLayer(t, s)
	before, _ := s.List(ctx)
	bad := []CommitOpt{
		{LayerID: id, ImageID: base.ID, Changes: []string{"RUN x"}},
		{LayerID: "nope", ImageID: base.ID},
		{LayerID: id, ImageID: "sha256:0000"},
		{LayerID: id, ImageID: base.ID, Ref: "UPPER:case"},
		{LayerID: id, ImageID: base.ID, Config: dockerspec.DockerOCIImageConfig{}, Changes: []string{"ONBUILD x"}},
	}
	for _, o := range bad {
		if _, err := s.Commit(ctx, o); err == nil {
			t.Errorf("commit %+v succeeded", o)
		}
	}
	after, _ := s.List(ctx)
	if len(after) != len(before) {
		t.Errorf("images %d -> %d after failed commits", len(before), len(after))
	}
	assertNoStrayBlobs(t, s)
}

// TestCommitRollback fails the last step (recording the image) and checks
// that the layer and blobs written before it are gone.
func TestCommitRollback(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	base, id := newContainerLayer(t, s)
	layersBefore, err := s.store.Layers()
	if err != nil {
		t.Fatal(err)
	}
	good := s.refs.path
	s.refs.path = filepath.Join(t.TempDir(), "missing", "images.json") // the save fails
	_, err = s.Commit(ctx, CommitOpt{LayerID: id, ImageID: base.ID, Ref: "rollback:1"})
	s.refs.path = good
	if err == nil {
		t.Fatal("commit succeeded although its record could not be saved")
	}
	layersAfter, _ := s.store.Layers()
	if len(layersAfter) != len(layersBefore) {
		t.Errorf("layers %d -> %d after a failed commit", len(layersBefore), len(layersAfter))
	}
	if _, err := s.Get(ctx, "rollback:1"); err == nil {
		t.Error("the failed commit's tag exists")
	}
	assertNoStrayBlobs(t, s)
}

// TestCommitKeepsDockerConfig: Docker-only config fields (HEALTHCHECK,
// SHELL, ONBUILD) survive a commit and a reload of the image record.
func TestCommitKeepsDockerConfig(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	base, id := newContainerLayer(t, s)
	hc := &dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "true"}, Retries: 3}
	img, err := s.Commit(ctx, CommitOpt{LayerID: id, ImageID: base.ID, Base: dockerspec.DockerOCIImageConfig{
		DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{Healthcheck: hc, Shell: []string{"/bin/ash", "-c"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Config.Config
	if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, hc.Test) || c.Healthcheck.Retries != 3 {
		t.Errorf("healthcheck after commit: %+v", c.Healthcheck)
	}
	if !slices.Equal(c.Shell, []string{"/bin/ash", "-c"}) {
		t.Errorf("shell after commit: %v", c.Shell)
	}
}
