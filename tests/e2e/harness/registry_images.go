package harness

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageSpec describes a random image built with RandomImage.
type ImageSpec struct {
	// Layers is the number of layers (default 1); LayerSize the size of the
	// one file in each (default 1024 bytes).
	Layers    int
	LayerSize int64
	// OS, Architecture and Variant go into the config (default linux/amd64).
	OS, Architecture, Variant string
	// Labels, Cmd and Created go into the config.
	Labels  map[string]string
	Cmd     []string
	Created time.Time
	// OCI selects OCI media types instead of Docker's.
	OCI bool
}

// RandomImage builds an image of random layers with the spec's config; t
// fails on error.
func RandomImage(t testing.TB, spec ImageSpec) v1.Image {
	t.Helper()
	if spec.Layers == 0 {
		spec.Layers = 1
	}
	if spec.LayerSize == 0 {
		spec.LayerSize = 1024
	}
	img, err := random.Image(spec.LayerSize, int64(spec.Layers))
	if err != nil {
		t.Fatalf("random image: %v", err)
	}
	if spec.OCI {
		img = ociMediaTypes(t, img)
	}
	return withSpecConfig(t, img, spec)
}

// ociMediaTypes rebuilds img's layers as OCI layers in an OCI manifest.
func ociMediaTypes(t testing.TB, img v1.Image) v1.Image {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, l := range layers {
		base, err = mutate.Append(base, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
			History: v1.History{CreatedBy: "random", Comment: "random layer"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return base
}

func withSpecConfig(t testing.TB, img v1.Image, spec ImageSpec) v1.Image {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = orDefault(spec.OS, "linux"), orDefault(spec.Architecture, "amd64"), spec.Variant
	cfg.Config.Labels, cfg.Config.Cmd = spec.Labels, spec.Cmd
	cfg.Created = v1.Time{Time: spec.Created}
	out, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatalf("set image config: %v", err)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// PlatformIndex builds an OCI index with one random image per platform
// ("os/arch[/variant]"), each entry carrying its platform.
func PlatformIndex(t testing.TB, platforms ...string) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatalf("parse platform %q: %v", p, err)
		}
		img := RandomImage(t, ImageSpec{OS: plat.OS, Architecture: plat.Architecture, Variant: plat.Variant, OCI: true})
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// PushImage writes img to ref ("host/repo:tag"); t fails on error.
func PushImage(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	if err := remote.Write(parseInsecure(t, ref), img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// PushIndex writes idx (and its images) to ref; t fails on error.
func PushIndex(t testing.TB, ref string, idx v1.ImageIndex) {
	t.Helper()
	if err := remote.WriteIndex(parseInsecure(t, ref), idx, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push index %s: %v", ref, err)
	}
}

// RemoteImage reads the image ref names from its registry; t fails on error.
func RemoteImage(t testing.TB, ref string) v1.Image {
	t.Helper()
	img, err := remote.Image(parseInsecure(t, ref), remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	return img
}

func parseInsecure(t testing.TB, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("parse %q: %v", ref, err)
	}
	return r
}

// registryHandler is the in-memory registry StartRegistry serves, logging
// to t.
func registryHandler(t testing.TB) http.Handler {
	return registry.New(registry.Logger(log.New(testWriter{t}, "registry: ", 0)))
}

// WriteDockerArchive writes a `docker save` tarball of the images, keyed by
// tag ("repo:tag"), to path; t fails on error.
func WriteDockerArchive(t testing.TB, path string, imgs map[string]v1.Image) {
	t.Helper()
	refs := map[name.Tag]v1.Image{}
	for ref, img := range imgs {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatalf("parse tag %q: %v", ref, err)
		}
		refs[tag] = img
	}
	if err := tarball.MultiWriteToFile(path, refs); err != nil {
		t.Fatalf("write docker archive %s: %v", path, err)
	}
}

// WriteOCIArchive writes img as a tarred OCI image layout to path, its
// index entry annotated with ref ("repo:tag") the way containerd (and so
// `docker load`) reads it; t fails on error.
func WriteOCIArchive(t testing.TB, path, ref string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatalf("parse tag %q: %v", ref, err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err == nil {
		err = p.AppendImage(img, layout.WithAnnotations(map[string]string{
			"org.opencontainers.image.ref.name": tag.TagStr(),
			"io.containerd.image.name":          tag.Name(),
		}))
	}
	if err != nil {
		t.Fatalf("write OCI layout: %v", err)
	}
	if err := tarTree(dir, path); err != nil {
		t.Fatalf("pack OCI layout: %v", err)
	}
}

// tarTree packs the regular files and directories under dir into out.
func tarTree(dir, out string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if e.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// RootfsTar returns a tar of a tiny root filesystem: the given files (path
// to content, mode 0644) under their parent directories.
func RootfsTar(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for p, content := range files {
		for d := filepath.Dir(p); d != "." && d != "/" && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			mustTar(t, tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}))
		}
		mustTar(t, tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}))
		_, err := tw.Write([]byte(content))
		mustTar(t, err)
	}
	mustTar(t, tw.Close())
	return buf.Bytes()
}

func mustTar(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("write tar: %v", err)
	}
}

// ConfigDigest returns img's config digest: the image ID Docker reports.
func ConfigDigest(t testing.TB, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// ManifestDigest returns the digest of img's manifest.
func ManifestDigest(t testing.TB, img v1.Image) string {
	t.Helper()
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// DiffIDs returns img's uncompressed layer digests, base first.
func DiffIDs(t testing.TB, img v1.Image) []string {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range cfg.RootFS.DiffIDs {
		out = append(out, h.String())
	}
	return out
}

// LayerDigests returns the blob digests of img's layers, base first.
func LayerDigests(t testing.TB, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.String())
	}
	return out
}

// UncompressedSize returns the summed size of img's layer tars.
func UncompressedSize(t testing.TB, img v1.Image) int64 {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		c, err := io.Copy(io.Discard, rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// PlatformImage returns the image of idx for platform ("os/arch[/variant]").
func PlatformImage(t testing.TB, idx v1.ImageIndex, platform string) v1.Image {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range m.Manifests {
		if desc.Platform != nil && desc.Platform.String() == platform {
			img, err := idx.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("index has no image for %s", platform)
	return nil
}
