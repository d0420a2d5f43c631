package oci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

type progressLog struct {
	mu    sync.Mutex
	lines []Progress
}

func (p *progressLog) fn(e Progress) {
	p.mu.Lock()
	p.lines = append(p.lines, e)
	p.mu.Unlock()
}

func (p *progressLog) count(status string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if l.Status == status {
			n++
		}
	}
	return n
}

// checkRootfs mounts a container layer on the image and checks files.
func checkRootfs(t *testing.T, s *Store, imageID string, want map[string]string, absent ...string) {
	t.Helper()
	ctx := testCtx(t)
	id := "ctr-" + strings.TrimPrefix(imageID, "sha256:")[:12]
	if _, err := s.CreateRWLayer(ctx, imageID, id); err != nil {
		t.Fatalf("create rw layer: %v", err)
	}
	defer func() {
		if err := s.RemoveLayer(ctx, id); err != nil {
			t.Errorf("remove rw layer: %v", err)
		}
	}()
	root, err := s.Mount(ctx, id)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	defer s.Unmount(ctx, id)
	for p, content := range want {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != content {
			t.Errorf("%s: got %q, %v; want %q", p, got, err, content)
		}
	}
	for _, p := range absent {
		if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: should be absent (whiteout), got %v", p, err)
		}
	}
}

func ourLayers(t *testing.T, s *Store) []string {
	t.Helper()
	ls, err := s.store.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		if m, ok := layerMetaOf(&l); ok && m.State == stateReadOnly {
			out = append(out, l.ID)
		}
	}
	return out
}

func TestPullMultiLayer(t *testing.T) {
	for _, drv := range []string{DriverOverlay, DriverFuseOverlay, DriverVFS} {
		t.Run(drv, func(t *testing.T) { testPullMultiLayer(t, drv) })
	}
}

func testPullMultiLayer(t *testing.T, drv string) {
	if drv == DriverFuseOverlay {
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			t.Skipf("fuse-overlayfs needs /dev/fuse: %v", err)
		}
		f.Close()
		if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
			t.Skip("fuse-overlayfs not installed")
		}
	}
	s := newTestStore(t, Opt{Driver: drv})
	if s.Driver() != drv {
		t.Fatalf("driver %s, want %s", s.Driver(), drv)
	}
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	layers := baseLayers(t)
	img := imageOfLayers(t, "amd64", "one", layers...)
	ref := reg.push(t, "test/multi:v1", img)

	var pl progressLog
	res, err := s.Pull(ctx, ref, PullOpt{Progress: pl.fn})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	cfgName, _ := img.ConfigName()
	if res.Image.ID != cfgName.String() || res.UpToDate {
		t.Fatalf("image id %s (uptodate %v), want %s", res.Image.ID, res.UpToDate, cfgName)
	}
	if res.Digest.String() != digestOf(t, img) || res.Ref != ref {
		t.Errorf("result digest/ref %s %s", res.Digest, res.Ref)
	}
	if !slices.Equal(res.Image.RepoTags, []string{ref}) ||
		!slices.Equal(res.Image.RepoDigests, []string{strings.TrimSuffix(ref, ":v1") + "@" + digestOf(t, img)}) {
		t.Errorf("refs %v %v", res.Image.RepoTags, res.Image.RepoDigests)
	}
	if len(res.Image.Layers) != 3 || res.Image.Size == 0 || res.Image.Config.Config.Labels["marker"] != "one" {
		t.Errorf("image fields: %+v", res.Image)
	}
	if pl.count("Pull complete") != 3 || pl.count("Pulling fs layer") != 3 || pl.count("Downloading") < 3 {
		t.Errorf("progress: %+v", pl.lines)
	}
	checkRootfs(t, s, res.Image.ID, map[string]string{"etc/b": "B", "etc/c": "C", "bin/sh": "#!shell", "bin/ash": "#!shell"}, "etc/a")

	reg.resetCounts()
	again, err := s.Pull(ctx, ref, PullOpt{})
	if err != nil || !again.UpToDate || again.Image.ID != res.Image.ID {
		t.Fatalf("second pull: %v uptodate=%v", err, again.UpToDate)
	}
	if n := len(reg.gets()); n != 0 {
		t.Errorf("second pull fetched %d blobs", n)
	}

	// A second image sharing the first two layers unpacks only its own.
	img2 := imageOfLayers(t, "amd64", "two", append(layers[:2:2], layerOf(t, [2]string{"two", "2"}))...)
	ref2 := reg.push(t, "test/other:latest", img2)
	before := len(ourLayers(t, s))
	var pl2 progressLog
	res2, err := s.Pull(ctx, ref2, PullOpt{Progress: pl2.fn})
	if err != nil {
		t.Fatalf("pull shared: %v", err)
	}
	if got := len(ourLayers(t, s)); got != before+1 {
		t.Errorf("layers after shared pull: %d, want %d", got, before+1)
	}
	if pl2.count("Already exists") != 2 {
		t.Errorf("shared pull progress: %+v", pl2.lines)
	}
	checkRootfs(t, s, res2.Image.ID, map[string]string{"etc/b": "B", "two": "2"}, "etc/a", "bin/sh")
}

func TestPullIndexPlatforms(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	amd := imageOfLayers(t, "amd64", "amd", layerOf(t, [2]string{"arch", "amd64"}))
	// The arm64 image has a zstd layer.
	armTar := tarOf(t, [2]string{"arch", "arm64"})
	zl, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(armTar)), nil
	}, tarball.WithCompression(compression.ZStd))
	if err != nil {
		t.Fatal(err)
	}
	arm := imageOfLayers(t, "arm64", "arm", zl)
	idx := indexOf(t, map[string]v1.Image{"amd64": amd, "arm64": arm})
	ref := reg.host() + "/test/multiarch:latest"
	pushIndex(t, ref, idx)

	res, err := s.Pull(ctx, ref, PullOpt{})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	amdID, _ := amd.ConfigName()
	if res.Image.ID != amdID.String() || res.Digest.String() != digestOf(t, idx) {
		t.Errorf("default platform: got %s digest %s", res.Image.ID, res.Digest)
	}
	if res.Image.Config.Architecture != "amd64" {
		t.Errorf("architecture %q", res.Image.Config.Architecture)
	}
	res, err = s.Pull(ctx, ref, PullOpt{Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64"}})
	armID, _ := arm.ConfigName()
	if err != nil || res.Image.ID != armID.String() {
		t.Fatalf("arm64 pull: %v %s", err, res.Image.ID)
	}
	checkRootfs(t, s, res.Image.ID, map[string]string{"arch": "arm64"})
	_, err = s.Pull(ctx, ref, PullOpt{Platform: &ocispec.Platform{OS: "linux", Architecture: "s390x"}})
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing platform: %v", err)
	}
	if _, err := s.Pull(ctx, reg.host()+"/test/nothere:latest", PullOpt{}); !errdefs.IsNotFound(err) {
		t.Errorf("missing repo: %v", err)
	}
}

func TestPullInterruptedThenResumed(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	layers := []v1.Layer{
		layerOf(t, [2]string{"one", strings.Repeat("1", 1<<20)}),
		layerOf(t, [2]string{"two", strings.Repeat("2", 1<<20)}),
		layerOf(t, [2]string{"three", strings.Repeat("3", 1<<20)}),
	}
	img := imageOfLayers(t, "amd64", "cut", layers...)
	ref := reg.push(t, "test/cut:latest", img)
	cutDigest := digestOf(t, layers[1])
	reg.mu.Lock()
	reg.cut = cutDigest
	reg.mu.Unlock()

	if _, err := s.Pull(ctx, ref, PullOpt{}); err == nil {
		t.Fatal("pull through a cut connection succeeded")
	}
	if imgs, _ := s.List(ctx); len(imgs) != 0 {
		t.Fatalf("half image left: %+v", imgs)
	}
	if ls := ourLayers(t, s); len(ls) != 0 {
		t.Fatalf("layers left after failed pull: %v", ls)
	}
	tmp, _ := os.ReadDir(filepath.Join(s.opt.Root, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("partial downloads left: %d", len(tmp))
	}
	if s.blobs.has(digestFromString(cutDigest)) {
		t.Error("the cut blob was stored")
	}
	reg.resetCounts()
	if _, err := s.Pull(ctx, ref, PullOpt{}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	gets := reg.gets()
	if gets[cutDigest] != 1 {
		t.Errorf("retry fetched the cut blob %d times", gets[cutDigest])
	}
	refetched := 0
	for _, l := range layers {
		refetched += gets[digestOf(t, l)]
	}
	// The other two layers may have been cut off by the cancellation
	// before they completed; each complete one must not be fetched again.
	if refetched < 1 || refetched > 3 {
		t.Errorf("retry fetched %d layer blobs: %v", refetched, gets)
	}
}

func TestPullCancelled(t *testing.T) {
	s := newTestStore(t, Opt{})
	reg := newTestRegistry(t)
	img := imageOfLayers(t, "amd64", "c", layerOf(t, [2]string{"x", "y"}))
	ref := reg.push(t, "test/cancel:latest", img)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if _, err := s.Pull(ctx, ref, PullOpt{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pull: %v", err)
	}
	if imgs, _ := s.List(testCtx(t)); len(imgs) != 0 {
		t.Fatal("cancelled pull left an image")
	}
}

func TestPullAllTagsAndConcurrent(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	layers := baseLayers(t)
	reg.push(t, "test/all:a", imageOfLayers(t, "amd64", "a", layers...))
	reg.push(t, "test/all:b", imageOfLayers(t, "amd64", "b", layers[:2]...))
	res, err := s.PullAllTags(ctx, reg.host()+"/test/all", PullOpt{})
	if err != nil || len(res) != 2 {
		t.Fatalf("pull -a: %v %d", err, len(res))
	}
	imgs, _ := s.List(ctx)
	if len(imgs) != 2 || len(ourLayers(t, s)) != 3 {
		t.Fatalf("after pull -a: %d images, %d layers", len(imgs), len(ourLayers(t, s)))
	}

	// Concurrent pulls of images sharing layers end up consistent.
	ref := reg.push(t, "test/conc:1", imageOfLayers(t, "amd64", "c", append(layers[:2:2], layerOf(t, [2]string{"c", "c"}))...))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Pull(ctx, ref, PullOpt{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent pull: %v", err)
		}
	}
	if n := len(ourLayers(t, s)); n != 4 {
		t.Errorf("layers after concurrent pulls: %d, want 4", n)
	}
}

func TestPullCorruptAndDuplicateLayers(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	reg := newTestRegistry(t)
	same := layerOf(t, [2]string{"dup", "d"})
	dup := imageOfLayers(t, "amd64", "dup", same, same, layerOf(t, [2]string{"top", "t"}))
	res, err := s.Pull(ctx, reg.push(t, "test/dup:1", dup), PullOpt{})
	if err != nil || len(res.Image.Layers) != 3 {
		t.Fatalf("pull with a repeated layer: %v", err)
	}
	checkRootfs(t, s, res.Image.ID, map[string]string{"dup": "d", "top": "t"})

	// A registry that serves a corrupted blob: the pull fails cleanly.
	bad := layerOf(t, [2]string{"bad", strings.Repeat("b", 4096)})
	ref := reg.push(t, "test/corrupt:1", imageOfLayers(t, "amd64", "bad", bad))
	badDigest := digestOf(t, bad)
	h := reg.Config.Handler
	reg.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, badDigest) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			body[len(body)-10] ^= 0xff
			w.WriteHeader(rec.Code)
			w.Write(body)
			return
		}
		h.ServeHTTP(w, r)
	})
	before := len(ourLayers(t, s))
	if _, err := s.Pull(ctx, ref, PullOpt{}); err == nil {
		t.Fatal("pull of a corrupted blob succeeded")
	}
	if got := len(ourLayers(t, s)); got != before {
		t.Errorf("layers after corrupt pull: %d, want %d", got, before)
	}
	if s.blobs.has(digestFromString(badDigest)) {
		t.Error("corrupted blob stored")
	}
	if _, err := s.Get(ctx, ref); !errdefs.IsNotFound(err) {
		t.Errorf("image after corrupt pull: %v", err)
	}
}
