package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// fakeImage is an image of the fake backend: its files are path ->
// content ("/" for directories).
type fakeImage struct {
	parent, createdBy string
	cfg               container.Config
	files             map[string]string
}

type fakeContainer struct {
	image string
	cfg   container.Config
	files map[string]string
}

// fakeBackend keeps images and containers in memory. RUN commands are
// recorded; a command containing "false" exits 1, "echo X" prints X.
type fakeBackend struct {
	mu         sync.Mutex
	images     map[string]*fakeImage
	containers map[string]*fakeContainer
	tags       map[string]string
	runs       []string
	created    []container.Config
	next       int
	// sleeping is closed when a "sleep" command runs (it then waits for
	// the build's cancellation).
	sleeping chan struct{}
}

func newFake() *fakeBackend {
	f := &fakeBackend{images: map[string]*fakeImage{}, containers: map[string]*fakeContainer{}, tags: map[string]string{}, sleeping: make(chan struct{})}
	f.images["sha256:base"] = &fakeImage{cfg: container.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}, files: map[string]string{"/bin/sh": "sh", "/bin": "/"}}
	f.tags["busybox"] = "sha256:base"
	return f
}

func (f *fakeBackend) id(prefix string) string {
	f.next++
	return fmt.Sprintf("%s%012d%052d", prefix, f.next, 0)
}

func (f *fakeBackend) ImageGet(_ context.Context, name string) (Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.tags[name]; ok {
		name = id
	}
	img, ok := f.images[name]
	if !ok {
		return Image{}, errdefs.Errorf(errdefs.NotFound, "No such image: %s", name)
	}
	return Image{ID: name, Config: img.cfg}, nil
}

func (f *fakeBackend) ImagePull(_ context.Context, name string, _ map[string]registry.AuthConfig, _ Output) (Image, error) {
	return Image{}, errdefs.Errorf(errdefs.NotFound, "pull access denied for %s", name)
}

func (f *fakeBackend) ScratchImage(context.Context) (Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images["sha256:scratch"] = &fakeImage{files: map[string]string{}}
	return Image{ID: "sha256:scratch"}, nil
}

func (f *fakeBackend) CacheLookup(_ context.Context, parent, createdBy string, cfg *container.Config) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, img := range f.images {
		if img.parent == parent && img.createdBy == createdBy && fmt.Sprint(img.cfg) == fmt.Sprint(*cfg) {
			return id, nil
		}
	}
	return "", nil
}

func (f *fakeBackend) ContainerCreate(_ context.Context, imageID string, cfg *container.Config) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[imageID]
	if !ok {
		return "", errdefs.Errorf(errdefs.NotFound, "No such image: %s", imageID)
	}
	files := map[string]string{}
	for k, v := range img.files {
		files[k] = v
	}
	id := f.id("c")
	f.containers[id] = &fakeContainer{image: imageID, cfg: *cfg, files: files}
	f.created = append(f.created, *cfg)
	return id, nil
}

func (f *fakeBackend) ContainerRun(ctx context.Context, id string, out io.Writer) (int, error) {
	f.mu.Lock()
	c := f.containers[id]
	cmd := strings.Join(c.cfg.Entrypoint, " ")
	f.runs = append(f.runs, cmd+" env="+strings.Join(c.cfg.Env, ","))
	f.mu.Unlock()
	if strings.Contains(cmd, "false") {
		return 1, nil
	}
	if strings.Contains(cmd, "sleep") {
		close(f.sleeping)
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if _, rest, ok := strings.Cut(cmd, "echo "); ok {
		fmt.Fprintln(out, rest)
	}
	return 0, nil
}

func (f *fakeBackend) ContainerCopy(_ context.Context, id string, content io.Reader, chown string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[id]
	tr := tar.NewReader(content)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		data, _ := io.ReadAll(tr)
		name := "/" + strings.TrimSuffix(hdr.Name, "/")
		switch hdr.Typeflag {
		case tar.TypeDir:
			c.files[name] = "/"
		default:
			c.files[name] = string(data)
		}
		if chown != "" {
			c.files[name+"#owner"] = chown
		}
	}
}

func (f *fakeBackend) ContainerArchive(_ context.Context, id, p string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[id]
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var names []string
	for name := range c.files {
		if name == p || strings.HasPrefix(name, p+"/") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, errdefs.Errorf(errdefs.NotFound, "Could not find the file %s in container", p)
	}
	sort.Strings(names)
	for _, name := range names {
		rel := path.Join(path.Base(p), strings.TrimPrefix(name, p))
		content := c.files[name]
		hdr := &tar.Header{Name: rel, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(content))}
		if content == "/" {
			hdr = &tar.Header{Name: rel + "/", Mode: 0o755, Typeflag: tar.TypeDir}
		}
		_ = tw.WriteHeader(hdr)
		if hdr.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte(content))
		}
	}
	_ = tw.Close()
	return io.NopCloser(&buf), nil
}

func (f *fakeBackend) ContainerIsDir(_ context.Context, id, p string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.containers[id].files[p] == "/", nil
}

func (f *fakeBackend) ContainerMkdir(_ context.Context, id, p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers[id].files[p] = "/"
	return nil
}

func (f *fakeBackend) ContainerCommit(_ context.Context, opt CommitOptions) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[opt.Container]
	id := f.id("sha256:")
	f.images[id] = &fakeImage{parent: c.image, createdBy: opt.CreatedBy, cfg: *opt.Config, files: c.files}
	return id, nil
}

func (f *fakeBackend) ContainerRemove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.containers[id]; !ok {
		return errdefs.Errorf(errdefs.NotFound, "No such container: %s", id)
	}
	delete(f.containers, id)
	return nil
}

func (f *fakeBackend) ImageTag(_ context.Context, imageID, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(ref, ":") {
		ref += ":latest"
	}
	f.tags[ref] = imageID
	return ref, nil
}
