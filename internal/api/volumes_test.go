package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// fakeVolumes records what the handlers pass and returns canned answers.
type fakeVolumes struct {
	listFilter, pruneFilter filters.Args
	created                 volume.CreateRequest
	removed                 string
	force                   bool
}

func (f *fakeVolumes) VolumeList(_ context.Context, flt filters.Args) ([]volume.Volume, error) {
	f.listFilter = flt
	return nil, nil
}

func (f *fakeVolumes) VolumeCreate(_ context.Context, req volume.CreateRequest) (volume.Volume, error) {
	f.created = req
	return volume.Volume{Name: req.Name, Driver: "local"}, nil
}

func (f *fakeVolumes) VolumeInspect(_ context.Context, name string) (volume.Volume, error) {
	return volume.Volume{}, errdefs.Errorf(errdefs.NotFound, "get %s: no such volume", name)
}

func (f *fakeVolumes) VolumeRemove(_ context.Context, name string, force bool) error {
	f.removed, f.force = name, force
	if name == "busy" {
		return errdefs.Errorf(errdefs.Conflict, "remove busy: volume is in use - [abc]")
	}
	return nil
}

func (f *fakeVolumes) VolumePrune(_ context.Context, flt filters.Args) (volume.PruneReport, error) {
	f.pruneFilter = flt
	return volume.PruneReport{}, nil
}

func newVolumeServer(f *fakeVolumes) *Server {
	return New(Opt{Backends: Backends{System: &fakeSystem{bus: events.New()}, Volumes: f}, BaseContext: context.Background(),
		CORSOrigin: func() string { return "" }})
}

func TestVolumeHandlers(t *testing.T) {
	f := &fakeVolumes{}
	s := newVolumeServer(f)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/v1.21/volumes/create", `{"Name":"v1"}`, 201},
		{http.MethodPost, "/volumes/create", `{"Name":"v1","Labels":{"a":"b"}}`, 201},
		{http.MethodPost, "/volumes/create", `{"Name":`, 400},
		{http.MethodGet, "/volumes/nope", "", 404},
		{http.MethodDelete, "/volumes/busy?force=1", "", 409},
		{http.MethodDelete, "/volumes/v1", "", 204},
		{http.MethodGet, `/volumes?filters={"dangling":["true"]}`, "", 200},
		{http.MethodGet, `/volumes?filters={"bogus":["x"]}`, "", 400},
		{http.MethodPut, "/volumes/v1", "{}", 503},
		{http.MethodPost, `/volumes/prune?filters={"until":["1h"]}`, "", 400},
	}
	for _, tc := range cases {
		rec := doBody(t, s, tc.method, tc.path, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.status)
		}
	}
	if f.created.Labels["a"] != "b" || f.removed != "v1" || f.force {
		t.Errorf("backend got create %+v, remove %q force %v", f.created, f.removed, f.force)
	}
	if got := f.listFilter["dangling"]; len(got) != 1 || got[0] != "true" {
		t.Errorf("list filter %v", f.listFilter)
	}
}

// TestVolumeListEmpty pins the shape: an empty list is [], not null.
func TestVolumeListEmpty(t *testing.T) {
	rec := do(t, newVolumeServer(&fakeVolumes{}), http.MethodGet, "/volumes")
	var res map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || string(res["Volumes"]) != "[]" {
		t.Fatalf("body %s", rec.Body)
	}
}

// TestVolumePruneAll pins the API 1.42 change: before it, prune removes
// named volumes too (all=true); from it, only what the client asks.
func TestVolumePruneAll(t *testing.T) {
	cases := []struct {
		path string
		all  bool
	}{
		{"/v1.41/volumes/prune", true},
		{"/v1.42/volumes/prune", false},
		{`/v1.47/volumes/prune?filters={"all":["true"]}`, true},
		{`/v1.41/volumes/prune?filters={"label":["a"]}`, true},
	}
	for _, tc := range cases {
		f := &fakeVolumes{}
		rec := do(t, newVolumeServer(f), http.MethodPost, tc.path)
		all, _, _ := f.pruneFilter.Bool("all")
		if rec.Code != 200 || all != tc.all {
			t.Errorf("%s: %d, all=%v, want %v", tc.path, rec.Code, all, tc.all)
		}
	}
}
