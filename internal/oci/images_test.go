package oci

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func TestParseRef(t *testing.T) {
	const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := []struct {
		in, full, familiar, domain, path string
		bad                              bool
	}{
		{in: "busybox", full: "docker.io/library/busybox:latest", familiar: "busybox:latest", domain: "docker.io", path: "library/busybox"},
		{in: "docker.io/library/busybox:latest", full: "docker.io/library/busybox:latest", familiar: "busybox:latest", domain: "docker.io", path: "library/busybox"},
		{in: "user/app:1.0", full: "docker.io/user/app:1.0", familiar: "user/app:1.0", domain: "docker.io", path: "user/app"},
		{in: "127.0.0.1:5000/x/y", full: "127.0.0.1:5000/x/y:latest", familiar: "127.0.0.1:5000/x/y:latest", domain: "127.0.0.1:5000", path: "x/y"},
		{in: "localhost/foo:bar", full: "localhost/foo:bar", familiar: "localhost/foo:bar", domain: "localhost", path: "foo"},
		{in: "busybox@" + dg, full: "docker.io/library/busybox@" + dg, familiar: "busybox@" + dg, domain: "docker.io", path: "library/busybox"},
		{in: "busybox:1@" + dg, full: "docker.io/library/busybox:1@" + dg, familiar: "busybox:1@" + dg, domain: "docker.io", path: "library/busybox"},
		{in: "Busybox", bad: true},
		{in: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", bad: true},
		{in: "a:b:c", bad: true},
		{in: "", bad: true},
	}
	for _, c := range cases {
		r, err := ParseRef(c.in)
		if c.bad {
			if !errdefs.IsInvalidParameter(err) {
				t.Errorf("%q: want invalid parameter, got %v", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if r.String() != c.full || r.Familiar() != c.familiar || r.Domain() != c.domain || r.Path() != c.path {
			t.Errorf("%q: got %s %s %s %s", c.in, r.String(), r.Familiar(), r.Domain(), r.Path())
		}
	}
}

func importImage(t *testing.T, s *Store, ref, content string) Image {
	t.Helper()
	img, err := s.Import(testCtx(t), bytes.NewReader(tarOf(t, [2]string{"f", content})), ImportOpt{Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestTagGetRemove(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	img := importImage(t, s, "busybox", "one")
	hex := strings.TrimPrefix(img.ID, "sha256:")
	for _, q := range []string{"busybox", "busybox:latest", "docker.io/library/busybox:latest", img.ID, hex, hex[:12], "sha256:" + hex[:8]} {
		if got, err := s.Get(ctx, q); err != nil || got.ID != img.ID {
			t.Errorf("get %q: %v", q, err)
		}
	}
	_, err := s.Get(ctx, "nothere")
	if !errdefs.IsNotFound(err) || err.Error() != "No such image: nothere" {
		t.Errorf("missing image: %v", err)
	}
	if err := s.Tag(ctx, "busybox", "other/repo:v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "nothere", "x"); !errdefs.IsNotFound(err) {
		t.Errorf("tag missing: %v", err)
	}
	got, _ := s.Get(ctx, img.ID)
	if !slices.Equal(got.RepoTags, []string{"busybox:latest", "other/repo:v2"}) || got.LastTagTime.IsZero() {
		t.Errorf("tags %v", got.RepoTags)
	}
	// By ID with tags in two repositories: 409 unless forced.
	_, err = s.Remove(ctx, hex[:12], false, false)
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "image is referenced in multiple repositories") {
		t.Fatalf("remove ambiguous: %v", err)
	}
	// By reference: only untags.
	items, err := s.Remove(ctx, "other/repo:v2", false, false)
	if err != nil || !slices.Equal(items, []DeleteItem{{Untagged: "other/repo:v2"}}) {
		t.Fatalf("untag: %v %+v", err, items)
	}
	// Last reference: untag and delete with its layer.
	items, err = s.Remove(ctx, "busybox", false, false)
	if err != nil || len(items) != 3 || items[0].Untagged != "busybox:latest" || items[1].Deleted != img.ID {
		t.Fatalf("delete: %v %+v", err, items)
	}
	if _, err := s.Get(ctx, img.ID); !errdefs.IsNotFound(err) {
		t.Error("image still there")
	}
	if ls := ourLayers(t, s); len(ls) != 0 {
		t.Errorf("layers left: %v", ls)
	}
	assertNoStrayBlobs(t, s)
}

func TestRemoveForceAndTagMove(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	a := importImage(t, s, "app:1", "a")
	if err := s.Tag(ctx, "app:1", "other:1"); err != nil {
		t.Fatal(err)
	}
	b := importImage(t, s, "app:1", "b") // the tag moves to b
	ga, _ := s.Get(ctx, a.ID)
	if !slices.Equal(ga.RepoTags, []string{"other:1"}) {
		t.Errorf("tag did not move: %v", ga.RepoTags)
	}
	items, err := s.Remove(ctx, a.ID, true, false)
	if err != nil || items[0].Untagged != "other:1" {
		t.Fatalf("force remove: %v %+v", err, items)
	}
	if got, err := s.Get(ctx, "app:1"); err != nil || got.ID != b.ID {
		t.Errorf("b lost its tag: %v", err)
	}
}

func TestPrune(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	keep := importImage(t, s, "keep:1", "k")
	dangling := importImage(t, s, "", "d")
	used := importImage(t, s, "", "u")
	inUse := func(id string) bool { return id == used.ID }
	items, reclaimed, err := s.Prune(ctx, true, inUse)
	if err != nil || reclaimed == 0 || !slices.ContainsFunc(items, func(i DeleteItem) bool { return i.Deleted == dangling.ID }) {
		t.Fatalf("prune dangling: %v %d %+v", err, reclaimed, items)
	}
	imgs, _ := s.List(ctx)
	if len(imgs) != 2 {
		t.Fatalf("after dangling prune: %d images", len(imgs))
	}
	items, _, err = s.Prune(ctx, false, inUse)
	if err != nil || !slices.ContainsFunc(items, func(i DeleteItem) bool { return i.Deleted == keep.ID }) {
		t.Fatalf("prune all: %v %+v", err, items)
	}
	imgs, _ = s.List(ctx)
	if len(imgs) != 1 || imgs[0].ID != used.ID {
		t.Errorf("after prune all: %+v", imgs)
	}
}

func TestStoreReopenKeepsImages(t *testing.T) {
	requireUserNS(t)
	dir := t.TempDir()
	ctx := testCtx(t)
	opt := Opt{Root: dir + "/root", RunRoot: dir + "/run"}
	s, err := New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	img := importImage(t, s, "persist:1", "p")
	// A layer from an interrupted pull: unreferenced, removed on reopen.
	if _, err := s.store.CreateLayer("stale", "", nil, "", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.setLayerMeta("stale", layerMeta{State: stateUnpacking}); err != nil {
		t.Fatal(err)
	}
	driver := s.Driver()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Get(ctx, "persist:1"); err != nil || got.ID != img.ID || s.Driver() != driver {
		t.Fatalf("after reopen: %v %s", err, s.Driver())
	}
	if _, err := s.store.Layer("stale"); err == nil {
		t.Error("stale layer survived reopen")
	}
	if len(s.DriverStatus()) == 0 {
		t.Error("no driver status")
	}
}
