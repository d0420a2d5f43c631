package oci

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestLoadDockerArchive(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	img := imageOfLayers(t, "amd64", "load", baseLayers(t)...)
	tag, _ := name.NewTag("example.com/load/me:v1")
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	lines, err := s.Load(ctx, &buf)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !slices.Equal(lines, []string{"Loaded image: example.com/load/me:v1"}) {
		t.Errorf("lines %q", lines)
	}
	cfg, _ := img.ConfigName()
	got, err := s.Get(ctx, "example.com/load/me:v1")
	if err != nil || got.ID != cfg.String() {
		t.Fatalf("get: %v %s", err, got.ID)
	}
	checkRootfs(t, s, got.ID, map[string]string{"etc/c": "C", "bin/sh": "#!shell"}, "etc/a")
	assertNoStrayBlobs(t, s)
}

func TestLoadOCIArchive(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	img := imageOfLayers(t, "amd64", "oci", layerOf(t, [2]string{"hello", "world"}))
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	err = lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name": "docker.io/library/ocitest:1.0", "org.opencontainers.image.ref.name": "1.0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Load(ctx, tarDir(t, dir))
	if err != nil || !slices.Equal(lines, []string{"Loaded image: ocitest:1.0"}) {
		t.Fatalf("load: %v %q", err, lines)
	}
	got, err := s.Get(ctx, "ocitest:1.0")
	if err != nil {
		t.Fatal(err)
	}
	checkRootfs(t, s, got.ID, map[string]string{"hello": "world"})
	if _, err := s.Load(ctx, bytes.NewReader(tarOf(t, [2]string{"junk", "x"}))); err == nil {
		t.Error("loading junk succeeded")
	}
	assertNoStrayBlobs(t, s)
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	img := imageOfLayers(t, "amd64", "rt", baseLayers(t)...)
	tag, _ := name.NewTag("roundtrip:v1")
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	orig, _ := s.Get(ctx, "roundtrip:v1")
	var saved bytes.Buffer
	if err := s.Save(ctx, []string{"roundtrip:v1"}, &saved); err != nil {
		t.Fatalf("save: %v", err)
	}
	// The archive must also be readable by go-containerregistry's
	// docker-archive reader (as docker load and skopeo read it).
	data := saved.Bytes()
	gimg, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil)
	if err != nil {
		t.Fatalf("read saved archive: %v", err)
	}
	if cn, err := gimg.ConfigName(); err != nil || cn.String() != orig.ID {
		t.Errorf("saved archive config %v %v", cn, err)
	}
	s2 := newTestStore(t, Opt{})
	lines, err := s2.Load(ctx, bytes.NewReader(data))
	if err != nil || !slices.Equal(lines, []string{"Loaded image: roundtrip:v1"}) {
		t.Fatalf("reload: %v %q", err, lines)
	}
	again, err := s2.Get(ctx, "roundtrip:v1")
	if err != nil || again.ID != orig.ID {
		t.Fatalf("round trip changed the ID: %s -> %s (%v)", orig.ID, again.ID, err)
	}
	// A bare repository name saves all its tags.
	if err := s.Tag(ctx, "roundtrip:v1", "roundtrip:v2"); err != nil {
		t.Fatal(err)
	}
	saved.Reset()
	if err := s.Save(ctx, []string{"roundtrip"}, &saved); err != nil {
		t.Fatal(err)
	}
	s4 := newTestStore(t, Opt{})
	lines, err = s4.Load(ctx, &saved)
	if err != nil || !slices.Equal(lines, []string{"Loaded image: roundtrip:v1", "Loaded image: roundtrip:v2"}) {
		t.Fatalf("load all tags: %v %q", err, lines)
	}
	// Saving by ID gives an untagged image.
	saved.Reset()
	if err := s.Save(ctx, []string{orig.ID[7:19]}, &saved); err != nil {
		t.Fatal(err)
	}
	s3 := newTestStore(t, Opt{})
	lines, err = s3.Load(ctx, &saved)
	if err != nil || !slices.Equal(lines, []string{"Loaded image ID: " + orig.ID}) {
		t.Fatalf("load by id: %v %q", err, lines)
	}
}

func TestLoadLegacyArchive(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	base := tarOf(t, [2]string{"etc/", ""}, [2]string{"etc/a", "A"})
	top := tarOf(t, [2]string{"etc/", ""}, [2]string{"etc/.wh.a", ""}, [2]string{"b", "B"})
	archive := tarOf(t,
		[2]string{"repositories", `{"legacy":{"old":"bbbb"}}`},
		[2]string{"aaaa/json", `{"id":"aaaa","created":"2015-01-01T00:00:00Z","container_config":{"Cmd":["/bin/sh","-c","#(nop) ADD file"]}}`},
		[2]string{"aaaa/layer.tar", string(base)},
		[2]string{"bbbb/json", `{"id":"bbbb","parent":"aaaa","created":"2015-01-02T00:00:00Z","os":"linux","architecture":"amd64","config":{"Cmd":["sh"]}}`},
		[2]string{"bbbb/layer.tar", string(top)},
	)
	lines, err := s.Load(ctx, bytes.NewReader(archive))
	if err != nil || !slices.Equal(lines, []string{"Loaded image: legacy:old"}) {
		t.Fatalf("load legacy: %v %q", err, lines)
	}
	img, err := s.Get(ctx, "legacy:old")
	if err != nil || len(img.Layers) != 2 || !slices.Equal(img.Config.Config.Cmd, []string{"sh"}) {
		t.Fatalf("legacy image: %v %+v", err, img)
	}
	checkRootfs(t, s, img.ID, map[string]string{"b": "B"}, "etc/a")
	hist, err := s.History(ctx, "legacy:old")
	if err != nil || len(hist) != 2 || hist[1].CreatedBy != "/bin/sh -c #(nop) ADD file" || hist[0].ID != img.ID {
		t.Errorf("history: %v %+v", err, hist)
	}
}

func TestImport(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	rootfs := tarOf(t, [2]string{"bin/", ""}, [2]string{"bin/sh", "shell"})
	img, err := s.Import(ctx, bytes.NewReader(rootfs), ImportOpt{
		Ref: "imported:1", Changes: []string{`CMD ["sh"]`, "ENV A=b", "EXPOSE 80", "LABEL x=y"}, Message: "hello",
	})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	c := img.Config.Config
	if !slices.Equal(c.Cmd, []string{"sh"}) || !slices.Equal(c.Env, []string{"A=b"}) || c.Labels["x"] != "y" {
		t.Errorf("config: %+v", c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok || img.Config.History[0].Comment != "hello" {
		t.Errorf("config: %+v %+v", c, img.Config.History)
	}
	if !slices.Equal(img.RepoTags, []string{"imported:1"}) || img.Size != int64(len(rootfs)) {
		t.Errorf("image: tags %v size %d want %d", img.RepoTags, img.Size, len(rootfs))
	}
	checkRootfs(t, s, img.ID, map[string]string{"bin/sh": "shell"})
	if _, err := s.Import(ctx, bytes.NewReader(rootfs), ImportOpt{Changes: []string{"RUN x"}}); err == nil {
		t.Error("import with RUN change succeeded")
	}
}

// assertNoStrayBlobs checks that every stored blob belongs to an image.
func assertNoStrayBlobs(t *testing.T, s *Store) {
	t.Helper()
	used := s.usedBlobs()
	entries, _ := os.ReadDir(filepath.Join(s.opt.Root, "blobs", "blobs", "sha256"))
	for _, e := range entries {
		if !used[digestFromString("sha256:"+e.Name())] {
			t.Errorf("stray blob %s", e.Name())
		}
	}
}

// tarDir packs a directory into a tar stream.
func tarDir(t *testing.T, dir string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	return &buf
}

var _ v1.Image = (v1.Image)(nil)
