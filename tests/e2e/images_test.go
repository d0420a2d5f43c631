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

// The image tests name their images dltest/e2eimg-* (or put them in a
// registry of their own) so that they do not meet the other tests' images.

// TestImagesLoad loads a two-layer image from a docker-archive and from an
// OCI archive and checks the CLI's report and the resulting image ID.
func TestImagesLoad(t *testing.T) {
	d := harness.Shared(t)
	dir := harness.TempDir(t)
	for _, tc := range []struct {
		name  string
		write func(path, ref string, img v1.Image)
	}{
		{"docker-archive", func(p, ref string, img v1.Image) {
			harness.WriteDockerArchive(t, p, map[string]v1.Image{ref: img})
		}},
		{"oci-archive", func(p, ref string, img v1.Image) { harness.WriteOCIArchive(t, p, ref, img) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := "dltest/e2eimg-load-" + tc.name + ":1"
			img := harness.RandomImage(t, harness.ImageSpec{Layers: 2, OCI: tc.name == "oci-archive"})
			path := filepath.Join(dir, tc.name+".tar")
			tc.write(path, ref, img)
			r := d.Docker(t, "load", "-i", path)
			if r.ExitCode != 0 || r.Stdout != "Loaded image: "+ref+"\n" {
				t.Errorf("want exit 0 and stdout %q, got\n%s", "Loaded image: "+ref+"\n", r)
			}
			if got := imageID(t, d, ref); got != harness.ConfigDigest(t, img) {
				t.Errorf("%s has ID %s, want the config digest %s", ref, got, harness.ConfigDigest(t, img))
			}
		})
	}
}

// TestImagesImport imports a rootfs tar with a CMD change and a message.
func TestImagesImport(t *testing.T) {
	d := harness.Shared(t)
	dir := harness.TempDir(t)
	path := filepath.Join(dir, "rootfs.tar")
	harness.WriteFile(t, dir, "rootfs.tar", harness.RootfsTar(t, map[string]string{"etc/motd": "hello\n"}), 0o644)
	const ref = "dltest/e2eimg-import:1"
	r := d.Docker(t, "import", "--change", `CMD ["sh"]`, "-m", "imported by e2e", path, ref)
	if r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "sha256:") || strings.Count(r.Stdout, "\n") != 1 {
		t.Fatalf("want exit 0 and the image ID on one line, got\n%s", r)
	}
	insp := inspect(t, d, ref)
	if id := strings.TrimSpace(r.Stdout); insp.ID != id {
		t.Errorf("import printed %s, %s has ID %s", id, ref, insp.ID)
	}
	if insp.Config == nil || !slices.Equal(insp.Config.Cmd, []string{"sh"}) {
		t.Errorf("Config.Cmd = %v, want [sh]", insp.Config)
	}
	if insp.Comment != "imported by e2e" || len(insp.RootFS.Layers) != 1 || insp.Os != "linux" {
		t.Errorf("Comment %q, %d layers, Os %q; want the message, 1 layer, linux", insp.Comment, len(insp.RootFS.Layers), insp.Os)
	}
	hist := d.DockerOK(t, "history", "--format", "{{.Comment}}", ref)
	if hist != "imported by e2e\n" {
		t.Errorf("docker history comments = %q, want the import message", hist)
	}
}

// TestImagesFilters lists images with each filter docker images supports.
func TestImagesFilters(t *testing.T) {
	d := harness.Shared(t)
	suite := fmt.Sprintf("e2eimg-filters-%d", time.Now().UnixNano())
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	imgs := map[string]v1.Image{}
	for i, n := range []string{"a", "b", "c", "d"} {
		imgs["dltest/e2eimg-filter-"+n+":1"] = harness.RandomImage(t, harness.ImageSpec{
			Labels: map[string]string{"e2e.suite": suite, "e2e.n": n}, Created: t0.Add(time.Duration(i) * time.Hour)})
	}
	newD := harness.RandomImage(t, harness.ImageSpec{Labels: map[string]string{"e2e.suite": suite, "e2e.n": "d2"}, Created: t0.Add(9 * time.Hour)})
	imgs["dltest/e2eimg-filter-new:1"] = newD
	dir := harness.TempDir(t)
	path := filepath.Join(dir, "filters.tar")
	harness.WriteDockerArchive(t, path, imgs)
	d.DockerOK(t, "load", "-i", path)
	// Moving the tag of d leaves the old d dangling.
	d.DockerOK(t, "tag", "dltest/e2eimg-filter-new:1", "dltest/e2eimg-filter-d:1")
	d.DockerOK(t, "rmi", "dltest/e2eimg-filter-new:1")
	lbl := "label=e2e.suite=" + suite
	for _, tc := range []struct {
		name    string
		filters []string
		want    []string // newest first, as docker images prints them
	}{
		{"dangling=true", []string{"dangling=true", lbl}, []string{"<none>:<none>"}},
		{"dangling=false", []string{"dangling=false", lbl}, []string{"d:1", "c:1", "b:1", "a:1"}},
		{"label=key=value", []string{lbl, "label=e2e.n=b"}, []string{"b:1"}},
		{"reference=glob", []string{"reference=dltest/e2eimg-filter-[ab]"}, []string{"b:1", "a:1"}},
		{"reference=tag", []string{"reference=dltest/e2eimg-filter-c:1"}, []string{"c:1"}},
		{"before", []string{"before=dltest/e2eimg-filter-c:1", lbl}, []string{"b:1", "a:1"}},
		{"since", []string{"since=dltest/e2eimg-filter-b:1", lbl}, []string{"d:1", "<none>:<none>", "c:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"images", "--format", "{{.Repository}}:{{.Tag}}"}
			for _, f := range tc.filters {
				args = append(args, "--filter", f)
			}
			r := d.Docker(t, args...)
			got := strings.Fields(strings.ReplaceAll(r.Stdout, "dltest/e2eimg-filter-", ""))
			if r.ExitCode != 0 || !slices.Equal(got, tc.want) {
				t.Errorf("want exit 0 and %q, got %q\n%s", tc.want, got, r)
			}
		})
	}
}

// TestImagesInspect checks the structured inspect of a pulled image and
// LastTagTime after docker tag.
func TestImagesInspect(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	created := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	img := harness.RandomImage(t, harness.ImageSpec{Layers: 2, LayerSize: 2048, Created: created,
		Labels: map[string]string{"e2e": "inspect"}, Cmd: []string{"/bin/true", "x"}})
	ref := reg.Ref("e2e/inspect:1")
	harness.PushImage(t, ref, img)
	d.DockerOK(t, "pull", ref)
	insp := inspect(t, d, ref)
	want := image.InspectResponse{
		ID: harness.ConfigDigest(t, img), RepoTags: []string{ref},
		RepoDigests:  []string{reg.Ref("e2e/inspect@" + harness.ManifestDigest(t, img))},
		Architecture: "amd64", Os: "linux", Created: created.Format(time.RFC3339Nano),
		RootFS: image.RootFS{Type: "layers", Layers: harness.DiffIDs(t, img)}, Size: harness.UncompressedSize(t, img),
	}
	got := insp
	// Docker's two image stores disagree on Comment for images without a
	// config comment (classic: "", containerd: the last history comment).
	got.Comment = ""
	got.Config, got.GraphDriver, got.Metadata, got.Descriptor, got.Manifests, got.Identity = nil, nil, image.Metadata{}, nil, nil, nil
	if !jsonEqual(got, want) {
		t.Errorf("inspect\n got %s\nwant %s", mustJSON(got), mustJSON(want))
	}
	if insp.Config == nil || !slices.Equal(insp.Config.Cmd, []string{"/bin/true", "x"}) || insp.Config.Labels["e2e"] != "inspect" {
		t.Errorf("Config = %s, want Cmd [/bin/true x] and label e2e=inspect", mustJSON(insp.Config))
	}
	out := d.DockerOK(t, "image", "inspect", "--format", "{{.Architecture}}/{{.Os}} {{len .RootFS.Layers}}", ref)
	if out != "amd64/linux 2\n" {
		t.Errorf("inspect --format printed %q, want %q", out, "amd64/linux 2\n")
	}
	before := time.Now().Add(-time.Second)
	d.DockerOK(t, "tag", ref, "dltest/e2eimg-inspect:tagged")
	after := time.Now().Add(time.Second)
	if lt := inspect(t, d, ref).Metadata.LastTagTime; lt.Before(before) || lt.After(after) {
		t.Errorf("Metadata.LastTagTime = %s after docker tag, want between %s and %s", lt, before, after)
	}
}

// TestImagesHistory checks docker history of a pulled two-layer image.
func TestImagesHistory(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	img := harness.RandomImage(t, harness.ImageSpec{Layers: 2, LayerSize: 3000})
	ref := reg.Ref("e2e/history:1")
	harness.PushImage(t, ref, img)
	d.DockerOK(t, "pull", ref)
	out := d.DockerOK(t, "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Comment}}", ref)
	want := harness.ConfigDigest(t, img) + "|random|this is a random history 1 of 2\n" +
		"<missing>|random|this is a random history 0 of 2\n"
	if out != want {
		t.Errorf("docker history printed\n%s\nwant\n%s", out, want)
	}
	res, err := d.Client(t).ImageHistory(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 || !slices.Equal(res.Items[0].Tags, []string{ref}) || res.Items[0].Size < 3000 || res.Items[1].Size < 3000 {
		t.Errorf("history = %s, want 2 entries, the top one tagged %s, each layer >= 3000 bytes", mustJSON(res.Items), ref)
	}
}

// TestImagesTag tags an image by reference, by ID and by short ID.
func TestImagesTag(t *testing.T) {
	d := harness.Shared(t)
	src := loadRandom(t, d, "dltest/e2eimg-tag:src")
	id := imageID(t, d, src)
	for _, tc := range []struct{ source, target, want string }{
		{src, "dltest/e2eimg-tag:two", "dltest/e2eimg-tag:two"},
		{src, "dltest/e2eimg-tag-default", "dltest/e2eimg-tag-default:latest"},
		{id, "dltest/e2eimg-tag:by-id", "dltest/e2eimg-tag:by-id"},
		{strings.TrimPrefix(id, "sha256:")[:12], "dltest/e2eimg-tag:by-short-id", "dltest/e2eimg-tag:by-short-id"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			if r := d.Docker(t, "tag", tc.source, tc.target); r.ExitCode != 0 || r.Stdout != "" {
				t.Fatalf("want exit 0 and no output, got\n%s", r)
			}
			if got := inspect(t, d, tc.want); got.ID != id || !slices.Contains(got.RepoTags, tc.want) {
				t.Errorf("%s: ID %s RepoTags %v, want %s", tc.want, got.ID, got.RepoTags, id)
			}
		})
	}
	r := d.Docker(t, "tag", "dltest/e2eimg-tag:missing", "dltest/e2eimg-tag:x")
	if r.ExitCode != 1 || r.Stderr != "Error response from daemon: No such image: dltest/e2eimg-tag:missing\n" {
		t.Errorf("tag of a missing image: want exit 1 and 'No such image', got\n%s", r)
	}
}

// TestImagesRemove covers untag versus delete and the two 409 conflicts.
func TestImagesRemove(t *testing.T) {
	d := harness.Shared(t)
	t.Run("untag-then-delete", func(t *testing.T) {
		ref := loadRandom(t, d, "dltest/e2eimg-rmi:a")
		id := imageID(t, d, ref)
		d.DockerOK(t, "tag", ref, "dltest/e2eimg-rmi:b")
		wantRemove(t, d.Docker(t, "rmi", "dltest/e2eimg-rmi:b"), "Untagged: dltest/e2eimg-rmi:b\n", "")
		if got := imageID(t, d, ref); got != id {
			t.Fatalf("after untagging b, %s has ID %q, want %s", ref, got, id)
		}
		wantRemove(t, d.Docker(t, "rmi", ref), "Untagged: "+ref+"\n", id)
		assertNoImage(t, d, id)
	})
	t.Run("id-with-several-repos", func(t *testing.T) {
		ref := loadRandom(t, d, "dltest/e2eimg-rmi-x:1")
		id := imageID(t, d, ref)
		d.DockerOK(t, "tag", ref, "dltest/e2eimg-rmi-y:1")
		short := strings.TrimPrefix(id, "sha256:")[:12]
		r := d.Docker(t, "rmi", short)
		want := "Error response from daemon: conflict: unable to delete " + short + " (must be forced) - image is referenced in multiple repositories\n"
		if r.ExitCode != 1 || r.Stderr != want {
			t.Errorf("want exit 1 and %q, got\n%s", want, r)
		}
		r = d.Docker(t, "rmi", "-f", short)
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "Untagged: dltest/e2eimg-rmi-x:1\n") ||
			!strings.Contains(r.Stdout, "Untagged: dltest/e2eimg-rmi-y:1\n") || !strings.Contains(r.Stdout, "Deleted: "+id+"\n") {
			t.Errorf("rmi -f: want both refs untagged and %s deleted, got\n%s", id, r)
		}
		assertNoImage(t, d, id)
	})
	t.Run("used-by-container", func(t *testing.T) {
		ref := loadRandom(t, d, "dltest/e2eimg-rmi-used:1")
		id := imageID(t, d, ref)
		ctr := strings.TrimSpace(d.DockerOK(t, "create", ref))
		defer d.Docker(t, "rm", "-f", ctr)
		r := d.Docker(t, "rmi", ref)
		want := fmt.Sprintf("Error response from daemon: conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s\n",
			ref, ctr[:12], strings.TrimPrefix(id, "sha256:")[:12])
		if r.ExitCode != 1 || r.Stderr != want {
			t.Errorf("rmi of an image a container uses: want exit 1 and\n%s\ngot\n%s", want, r)
		}
		if r := d.Docker(t, "rmi", "-f", ref); r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "Untagged: "+ref+"\n") {
			t.Errorf("rmi -f: want exit 0 and %q first, got\n%s", "Untagged: "+ref, r)
		}
	})
}

// TestImagesSaveLoadRoundTrip pipes docker save into docker load, by
// reference and by ID, and checks the image keeps its ID.
func TestImagesSaveLoadRoundTrip(t *testing.T) {
	d := harness.Shared(t)
	for _, byID := range []bool{false, true} {
		t.Run(fmt.Sprintf("by-id=%v", byID), func(t *testing.T) {
			ref := loadRandom(t, d, fmt.Sprintf("dltest/e2eimg-save:%v", byID))
			id := imageID(t, d, ref)
			name, want := ref, "Loaded image: "+ref+"\n"
			if byID {
				name, want = id, "Loaded image ID: "+id+"\n"
			}
			saved := d.Docker(t, "save", name)
			if saved.ExitCode != 0 || len(saved.Stdout) == 0 {
				t.Fatalf("docker save: want exit 0 and a tar on stdout, got exit %d, stderr %s", saved.ExitCode, saved.Stderr)
			}
			d.DockerOK(t, "rmi", "-f", id)
			r := d.DockerStdin(t, strings.NewReader(saved.Stdout), "load")
			if r.ExitCode != 0 || r.Stdout != want {
				t.Errorf("docker load: want exit 0 and %q, got\n%s", want, r)
			}
			if got := inspect(t, d, id); got.ID != id {
				t.Errorf("after the round trip the image has ID %s, want %s", got.ID, id)
			}
		})
	}
}

// TestImagesPrune prunes dangling images, then unused ones by label.
func TestImagesPrune(t *testing.T) {
	d := harness.Shared(t)
	suite := fmt.Sprintf("e2eimg-prune-%d", time.Now().UnixNano())
	old := loadRandomLabels(t, d, "dltest/e2eimg-prune:1", map[string]string{"e2e.suite": suite})
	oldID := imageID(t, d, old)
	loadRandomLabels(t, d, "dltest/e2eimg-prune:1", map[string]string{"e2e.suite": suite}) // old is dangling now
	keep := loadRandomLabels(t, d, "dltest/e2eimg-prune-keep:1", map[string]string{"e2e.suite": "other-" + suite})
	r := d.Docker(t, "image", "prune", "-f")
	if r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "Deleted Images:\n") || !strings.Contains(r.Stdout, "deleted: "+oldID+"\n") ||
		!strings.Contains(r.Stdout, "\nTotal reclaimed space: ") {
		t.Errorf("image prune: want exit 0, %s deleted and the reclaimed space, got\n%s", oldID, r)
	}
	assertNoImage(t, d, oldID)
	imageID(t, d, "dltest/e2eimg-prune:1")
	r = d.Docker(t, "image", "prune", "-a", "-f", "--filter", "label=e2e.suite="+suite)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "untagged: dltest/e2eimg-prune:1\n") {
		t.Errorf("image prune -a --filter label: want exit 0 and dltest/e2eimg-prune:1 untagged, got\n%s", r)
	}
	if r := d.Docker(t, "image", "inspect", keep); r.ExitCode != 0 {
		t.Errorf("prune -a with a label filter removed %s, which does not carry the label:\n%s", keep, r)
	}
}

// TestImagesEvents checks the image events of pull, tag, untag, save,
// delete, load and import through docker events --since --until.
func TestImagesEvents(t *testing.T) {
	d := harness.Shared(t)
	reg := harness.StartCountingRegistry(t)
	img := harness.RandomImage(t, harness.ImageSpec{})
	ref := reg.Ref("e2e/events:1")
	harness.PushImage(t, ref, img)
	id := harness.ConfigDigest(t, img)
	dir := harness.TempDir(t)
	tarPath := harness.WriteFile(t, dir, "rootfs.tar", harness.RootfsTar(t, map[string]string{"events": "x"}), 0o644)
	since := time.Now()
	d.DockerOK(t, "pull", ref)
	d.DockerOK(t, "tag", ref, "dltest/e2eimg-events:2")
	d.DockerOK(t, "rmi", "dltest/e2eimg-events:2")
	archive := filepath.Join(dir, "events.tar")
	d.DockerOK(t, "save", "-o", archive, ref)
	d.DockerOK(t, "rmi", ref)
	d.DockerOK(t, "load", "-i", archive)
	imported := strings.TrimSpace(d.DockerOK(t, "import", tarPath))
	until := time.Now()
	out := d.DockerOK(t, "events", "--since", unixArg(since), "--until", unixArg(until), "--filter", "type=image", "--format", "{{json .}}")
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Action string
			Actor  struct {
				ID         string
				Attributes map[string]string
			}
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("docker events printed %q: %v", line, err)
		}
		got = append(got, m.Action+" "+m.Actor.ID+" "+m.Actor.Attributes["name"])
	}
	want := []string{
		"pull " + ref + " " + reg.Ref("e2e/events"),
		"tag " + id + " dltest/e2eimg-events:2",
		"untag " + id + " " + id,
		"save " + id + " " + id,
		"untag " + id + " " + id,
		"delete " + id + " " + id,
		"load " + id + " " + id,
		"import " + imported + " " + imported,
	}
	if !slices.Equal(got, want) {
		t.Errorf("image events (action, Actor.ID, name):\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
