package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// fakeBuild records the options and replays msgs, then returns err.
type fakeBuild struct {
	got  BuildOptions
	body string
	msgs []jsonstream.Message
	err  error
	// pruneFilters are BuildPrune's filters.
	pruneFilters filters.Args
}

func (f *fakeBuild) ImageBuild(_ context.Context, opt BuildOptions, progress ProgressFunc) error {
	f.got = opt
	data, _ := io.ReadAll(opt.Context)
	f.body = string(data)
	for _, m := range f.msgs {
		progress(m)
	}
	return f.err
}

func (f *fakeBuild) BuildPrune(_ context.Context, fl filters.Args) (build.CachePruneReport, error) {
	f.pruneFilters = fl
	return build.CachePruneReport{SpaceReclaimed: 42}, f.err
}

func postBuildReq(t *testing.T, f *fakeBuild, path string, hdr http.Header) *httptest.ResponseRecorder {
	t.Helper()
	s2 := New(Opt{Backends: Backends{System: &fakeSystem{}, Build: f}, BaseContext: context.Background()})
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("TAR"))
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s2.Handler().ServeHTTP(rec, req)
	return rec
}

func TestPostBuildOptions(t *testing.T) {
	auths, _ := json.Marshal(map[string]map[string]string{"reg.example": {"username": "u", "password": "p"}})
	hdr := http.Header{"X-Registry-Config": {base64.URLEncoding.EncodeToString(auths)}}
	f := &fakeBuild{msgs: []jsonstream.Message{{Stream: "Step 1/1 : FROM x\n"}}}
	rec := postBuildReq(t, f, `/v1.47/build?t=a&t=b:1&dockerfile=sub/Df&q=1&nocache=1&pull=1&forcerm=1&target=t&networkmode=host&buildargs={"A":"1","B":null}&labels={"l":"v"}`, hdr)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"stream":"Step 1/1 : FROM x\n"`) {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
	g := f.got
	if f.body != "TAR" || strings.Join(g.Tags, ",") != "a,b:1" || g.Dockerfile != "sub/Df" || !g.Quiet || !g.NoCache || !g.Pull ||
		!g.Remove || !g.ForceRemove || g.Target != "t" || g.NetworkMode != "host" || *g.BuildArgs["A"] != "1" || g.BuildArgs["B"] != nil || g.Labels["l"] != "v" {
		t.Errorf("options = %+v", g)
	}
	if g.Auths["reg.example"].Username != "u" {
		t.Errorf("auths = %+v", g.Auths)
	}
	postBuildReq(t, f, "/build?rm=0", nil)
	if f.got.Remove {
		t.Errorf("rm=0 kept Remove")
	}
}

func TestPostBuildErrors(t *testing.T) {
	for path, code := range map[string]int{
		"/build?remote=https://x/y.git": http.StatusNotImplemented,
		"/build?version=2":              http.StatusNotImplemented,
		"/build?buildargs={":            http.StatusBadRequest,
	} {
		if rec := postBuildReq(t, &fakeBuild{}, path, nil); rec.Code != code {
			t.Errorf("%s: %d %s, want %d", path, rec.Code, rec.Body, code)
		}
	}
	// before any output: an ordinary error; after it: in-band.
	rec := postBuildReq(t, &fakeBuild{err: errdefs.Errorf(errdefs.InvalidParameter, "Cannot locate specified Dockerfile: x")}, "/build", nil)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("early error: %d", rec.Code)
	}
	f := &fakeBuild{msgs: []jsonstream.Message{{Stream: "Step 1/2\n"}}, err: errdefs.Errorf(errdefs.InvalidParameter, "boom")}
	rec = postBuildReq(t, f, "/build", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"errorDetail":{"message":"boom"}`) {
		t.Errorf("late error: %d %s", rec.Code, rec.Body)
	}
}

func TestPostBuildAuxFromAPI130(t *testing.T) {
	aux := json.RawMessage(`{"ID":"sha256:x"}`)
	f := &fakeBuild{msgs: []jsonstream.Message{{Stream: "s\n"}, {Aux: &aux}}}
	if rec := postBuildReq(t, f, "/v1.29/build", nil); strings.Contains(rec.Body.String(), "aux") {
		t.Errorf("aux at 1.29: %s", rec.Body)
	}
	if rec := postBuildReq(t, f, "/v1.30/build", nil); !strings.Contains(rec.Body.String(), `"aux":{"ID":"sha256:x"}`) {
		t.Errorf("no aux at 1.30: %s", rec.Body)
	}
}

func TestPostBuildPrune(t *testing.T) {
	f := &fakeBuild{}
	rec := postBuildReq(t, f, `/build/prune?all=1&filters={"until":{"24h":true}}`, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"CachesDeleted":[],"SpaceReclaimed":42}` {
		t.Errorf("prune: %d %s", rec.Code, rec.Body)
	}
	if got := f.pruneFilters["until"]; len(got) != 1 || got[0] != "24h" {
		t.Errorf("filters = %v", f.pruneFilters)
	}
	for path, code := range map[string]int{
		"/build/prune?keep-storage=1000":           http.StatusNotImplemented,
		`/build/prune?filters={"type":{"x":true}}`: http.StatusBadRequest,
	} {
		if rec := postBuildReq(t, &fakeBuild{}, path, nil); rec.Code != code {
			t.Errorf("%s: %d %s, want %d", path, rec.Code, rec.Body, code)
		}
	}
}
