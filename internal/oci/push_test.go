package oci

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestPushKeepsDigest(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	img := imageOfLayers(t, "amd64", "push", baseLayers(t)...)
	ref := reg.push(t, "test/src:v1", img)
	res, err := s.Pull(ctx, ref, PullOpt{})
	if err != nil {
		t.Fatal(err)
	}
	dst := reg.host() + "/test/dst:v2"
	if err := s.Tag(ctx, ref, dst); err != nil {
		t.Fatal(err)
	}
	var pl progressLog
	d, size, err := s.Push(ctx, dst, PushOpt{Progress: pl.fn})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if d.String() != digestOf(t, img) || size == 0 {
		t.Errorf("pushed digest %s size %d, want %s", d, size, digestOf(t, img))
	}
	r, _ := name.ParseReference(dst, name.Insecure)
	desc, err := remote.Get(r)
	if err != nil || desc.Digest.String() != d.String() {
		t.Fatalf("registry has %v, %v", desc, err)
	}
	if pl.count("Pushed")+pl.count("Layer already exists") != 3 {
		t.Errorf("push progress: %+v", pl.lines)
	}
	// Pushing again: everything exists.
	var pl2 progressLog
	if _, _, err := s.Push(ctx, dst, PushOpt{Progress: pl2.fn}); err != nil {
		t.Fatal(err)
	}
	if pl2.count("Layer already exists") != 3 {
		t.Errorf("second push progress: %+v", pl2.lines)
	}
	got, _ := s.Get(ctx, res.Image.ID)
	if len(got.RepoDigests) != 2 {
		t.Errorf("repo digests after push: %v", got.RepoDigests)
	}
	if _, _, err := s.Push(ctx, reg.host()+"/nope:latest", PushOpt{}); err == nil {
		t.Error("push of a missing image succeeded")
	}
}
