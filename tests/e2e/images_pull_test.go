package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestImagesPullPush pulls a multi-layer image from the loopback registry,
// pulls it again (up to date), pushes it under another name and checks what
// the registry got.
func TestImagesPullPush(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	img := harness.RandomImage(t, harness.ImageSpec{Layers: 3, LayerSize: 4096})
	ref := reg.Ref("e2e/multi:v1")
	harness.PushImage(t, ref, img)
	mf := harness.ManifestDigest(t, img)
	for i, want := range []string{"Status: Downloaded newer image for " + ref, "Status: Image is up to date for " + ref} {
		r := d.Docker(t, "pull", ref)
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "Digest: "+mf+"\n") || !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("pull %d: want exit 0, %q and %q in stdout, got\n%s", i+1, "Digest: "+mf, want, r)
		}
	}
	if got := imageID(t, d, ref); got != harness.ConfigDigest(t, img) {
		t.Fatalf("pulled %s has ID %s, want %s", ref, got, harness.ConfigDigest(t, img))
	}
	pushed := reg.Ref("e2e/pushed:v2")
	d.DockerOK(t, "tag", ref, pushed)
	r := d.Docker(t, "push", pushed)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "v2: digest: sha256:") {
		t.Fatalf("want exit 0 and %q in stdout, got\n%s", "v2: digest: sha256:", r)
	}
	got := harness.RemoteImage(t, pushed)
	if harness.ConfigDigest(t, got) != harness.ConfigDigest(t, img) || !slices.Equal(harness.DiffIDs(t, got), harness.DiffIDs(t, img)) {
		t.Errorf("registry has config %s layers %v, want %s %v", harness.ConfigDigest(t, got), harness.DiffIDs(t, got), harness.ConfigDigest(t, img), harness.DiffIDs(t, img))
	}
	if dg := harness.ManifestDigest(t, got); !strings.Contains(r.Stdout, "v2: digest: "+dg+" size: ") {
		t.Errorf("push output does not report the manifest digest %s:\n%s", dg, r)
	}
}

// TestImagesPushImported pushes an image that never came from a registry
// (its layer is compressed on the way) and pulls it back after removing it.
func TestImagesPushImported(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	dir := harness.TempDir(t)
	tarPath := harness.WriteFile(t, dir, "rootfs.tar", harness.RootfsTar(t, map[string]string{"a/b": "push me\n"}), 0o644)
	ref := reg.Ref("e2e/imported:1")
	id := strings.TrimSpace(d.DockerOK(t, "import", tarPath, ref))
	d.DockerOK(t, "push", ref)
	d.DockerOK(t, "rmi", ref)
	d.DockerOK(t, "pull", ref)
	if got := imageID(t, d, ref); got != id {
		t.Errorf("pushed %s and pulled back %s", id, got)
	}
}

// TestImagesPullPlatform pulls each platform of a multi-platform index.
func TestImagesPullPlatform(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	idx := harness.PlatformIndex(t, "linux/amd64", "linux/arm64", "linux/arm/v7")
	ref := reg.Ref("e2e/multiarch:1")
	harness.PushIndex(t, ref, idx)
	idxDigest, _ := idx.Digest()
	for _, tc := range []struct{ platform, want string }{
		{"linux/arm64", "linux/arm64"},
		{"linux/arm/v7", "linux/arm/v7"},
		{"linux/amd64", "linux/amd64"},
	} {
		t.Run(strings.ReplaceAll(tc.platform, "/", "-"), func(t *testing.T) {
			r := d.Docker(t, "pull", "--platform", tc.platform, ref)
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, "Digest: "+idxDigest.String()+"\n") {
				t.Fatalf("want exit 0 and the index digest %s, got\n%s", idxDigest, r)
			}
			insp := inspect(t, d, ref)
			plat := insp.Os + "/" + insp.Architecture
			if insp.Variant != "" {
				plat += "/" + insp.Variant
			}
			if plat != tc.want || insp.ID != harness.ConfigDigest(t, harness.PlatformImage(t, idx, tc.want)) {
				t.Errorf("pulled %s (ID %s), want %s", plat, insp.ID, tc.want)
			}
			if want := reg.Ref("e2e/multiarch@" + idxDigest.String()); !slices.Contains(insp.RepoDigests, want) {
				t.Errorf("RepoDigests = %v, want %s", insp.RepoDigests, want)
			}
		})
	}
	r := d.Docker(t, "pull", "--platform", "linux/s390x", ref)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "no matching manifest for linux/s390x in the manifest list entries") {
		t.Errorf("pull of a missing platform: want exit 1 and 'no matching manifest', got\n%s", r)
	}
}

// TestImagesPullAllTags pulls every tag of a repository with pull -a.
func TestImagesPullAllTags(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	repo := reg.Ref("e2e/alltags")
	want := map[string]string{}
	for _, tag := range []string{"a", "b", "c"} {
		img := harness.RandomImage(t, harness.ImageSpec{})
		harness.PushImage(t, repo+":"+tag, img)
		want[tag] = harness.ConfigDigest(t, img)
	}
	d.DockerOK(t, "pull", "-a", repo)
	out := d.DockerOK(t, "images", "--format", "{{.Tag}}", repo)
	if tags := sortedLines(out); !slices.Equal(tags, []string{"a", "b", "c"}) {
		t.Errorf("docker images %s lists tags %q, want a b c", repo, tags)
	}
	for tag, id := range want {
		if got := imageID(t, d, repo+":"+tag); got != id {
			t.Errorf("%s:%s has ID %s, want %s", repo, tag, got, id)
		}
	}
}

// TestImagesPullInterrupted cuts one layer half way through the first pull,
// which must fail and leave no image; the second pull succeeds and fetches
// again only the blobs the first did not complete.
func TestImagesPullInterrupted(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	img := harness.RandomImage(t, harness.ImageSpec{Layers: 3, LayerSize: 256 << 10})
	ref := reg.Ref("e2e/interrupted:1")
	harness.PushImage(t, ref, img)
	layers := harness.LayerDigests(t, img)
	cut, others := layers[len(layers)-1], layers[:len(layers)-1]
	reg.Cut(cut, others...)
	if r := d.Docker(t, "pull", ref); r.ExitCode == 0 {
		t.Fatalf("pull with a layer cut half way succeeded:\n%s", r)
	}
	if r := d.Docker(t, "image", "inspect", ref); r.ExitCode != 1 {
		t.Errorf("after the failed pull, image inspect %s: want exit 1, got\n%s", ref, r)
	}
	firstGets := map[string]int{}
	for _, l := range layers {
		firstGets[l] = reg.BlobGets(l)
	}
	reg.Uncut(cut)
	if r := d.Docker(t, "pull", ref); r.ExitCode != 0 {
		t.Fatalf("second pull: want exit 0, got\n%s", r)
	}
	if got := imageID(t, d, ref); got != harness.ConfigDigest(t, img) {
		t.Errorf("pulled ID %s, want %s", got, harness.ConfigDigest(t, img))
	}
	for _, l := range others {
		if reg.BlobServed(l) == 0 || reg.BlobGets(l) != firstGets[l] {
			t.Errorf("layer %s: %d GETs in the first pull, %d in all; want it complete in the first and not fetched again",
				l, firstGets[l], reg.BlobGets(l))
		}
	}
	if reg.BlobServed(cut) != 1 || reg.BlobGets(cut) <= firstGets[cut] {
		t.Errorf("cut layer: %d GETs, %d complete; want it fetched again and complete once", reg.BlobGets(cut), reg.BlobServed(cut))
	}
}
