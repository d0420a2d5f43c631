package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// fakeArchive implements the archive methods of ContainerBackend.
type fakeArchive struct {
	ContainerBackend
	extract ExtractOptions
	commit  CommitOptions
}

var testStat = container.PathStat{Name: "ln", Size: 3, Mode: os.ModeSymlink | 0o777,
	Mtime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), LinkTarget: "/etc/target"}

func (f *fakeArchive) ContainerStatPath(_ context.Context, name, p string) (container.PathStat, error) {
	if p != "/ln" {
		return container.PathStat{}, errdefs.Errorf(errdefs.NotFound, "Could not find the file %s in container %s", p, name)
	}
	return testStat, nil
}

func (f *fakeArchive) ContainerArchivePath(ctx context.Context, name, p string) (io.ReadCloser, container.PathStat, error) {
	st, err := f.ContainerStatPath(ctx, name, p)
	return io.NopCloser(strings.NewReader("tar")), st, err
}

func (f *fakeArchive) ContainerExtractToDir(_ context.Context, _ string, opt ExtractOptions) error {
	f.extract = opt
	return nil
}

func (f *fakeArchive) ContainerCommit(_ context.Context, opt CommitOptions) (string, error) {
	f.commit = opt
	return "sha256:abc", nil
}

func newArchiveServer(f *fakeArchive) *Server {
	return New(Opt{Backends: Backends{System: &fakeSystem{}, Containers: f}, BaseContext: context.Background(),
		CORSOrigin: func() string { return "" }})
}

func TestArchiveStatHeader(t *testing.T) {
	s := newArchiveServer(&fakeArchive{})
	rec := do(t, s, http.MethodHead, "/containers/c1/archive?path=/ln")
	if rec.Code != http.StatusOK {
		t.Fatalf("HEAD: %d", rec.Code)
	}
	raw, err := base64.StdEncoding.DecodeString(rec.Header().Get(pathStatHeader))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "ln", "size": 3.0, "mode": float64(os.ModeSymlink | 0o777),
		"mtime": "2024-01-02T03:04:05Z", "linkTarget": "/etc/target"}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("stat %s = %v, want %v", k, fields[k], v)
		}
	}
	if rec := do(t, s, http.MethodHead, "/containers/c1/archive?path=/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("HEAD of a missing path: %d", rec.Code)
	}
	if rec := do(t, s, http.MethodGet, "/containers/c1/archive"); rec.Code != http.StatusBadRequest {
		t.Errorf("GET without path: %d", rec.Code)
	}
}

func TestArchivePutOptions(t *testing.T) {
	f := &fakeArchive{}
	s := newArchiveServer(f)
	rec := doBody(t, s, http.MethodPut, "/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=true&copyUIDGID=1", "")
	if rec.Code != http.StatusOK || f.extract.Path != "/tmp" || !f.extract.NoOverwriteDirNonDir || !f.extract.CopyUIDGID {
		t.Fatalf("PUT: %d %+v", rec.Code, f.extract)
	}
}

func TestLegacyCopyVersions(t *testing.T) {
	s := newArchiveServer(&fakeArchive{})
	rec := doBody(t, s, http.MethodPost, "/v1.23/containers/c1/copy", `{"Resource":"/ln"}`)
	if rec.Code != http.StatusOK || rec.Body.String() != "tar" {
		t.Fatalf("copy at 1.23: %d %q", rec.Code, rec.Body)
	}
	if rec := doBody(t, s, http.MethodPost, "/v1.24/containers/c1/copy", `{"Resource":"/ln"}`); rec.Code != http.StatusNotFound || rec.Body.Len() != 0 {
		t.Fatalf("copy at 1.24: %d %q, want a bare 404", rec.Code, rec.Body)
	}
	if rec := doBody(t, s, http.MethodPost, "/v1.23/containers/c1/copy", `{}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("copy without a resource: %d", rec.Code)
	}
}

func TestCommitHandler(t *testing.T) {
	f := &fakeArchive{}
	s := newArchiveServer(f)
	rec := doBody(t, s, http.MethodPost, "/commit?container=c1&repo=r&tag=t&comment=m&changes=CMD+x&changes=ENV+a=b", "")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"Id":"sha256:abc"`) {
		t.Fatalf("commit: %d %s", rec.Code, rec.Body)
	}
	c := f.commit
	if c.Container != "c1" || c.Ref != "r:t" || c.Comment != "m" || !c.Pause || c.Config != nil || len(c.Changes) != 2 {
		t.Fatalf("commit options %+v", c)
	}
	doBody(t, s, http.MethodPost, "/v1.12/commit?container=c1", `{"Cmd":["ls"]}`)
	if f.commit.Pause || f.commit.Config == nil || f.commit.Config.Cmd[0] != "ls" {
		t.Fatalf("API 1.12 commit options %+v", f.commit)
	}
}
