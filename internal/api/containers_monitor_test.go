package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
)

// fakeMonitor implements the monitoring methods of ContainerBackend; the
// others are left to the nil embedded interface (they panic if called).
type fakeMonitor struct {
	ContainerBackend
	psArgs   string
	statsOpt StatsOptions
	samples  int
	update   container.UpdateConfig
	paused   bool
}

func (f *fakeMonitor) ContainerTop(_ context.Context, name, psArgs string) (container.TopResponse, error) {
	if name != "c1" {
		return container.TopResponse{}, errdefs.Errorf(errdefs.Conflict, "container %s is not running", name)
	}
	f.psArgs = psArgs
	return container.TopResponse{Titles: []string{"PID", "CMD"}, Processes: [][]string{{"1", "sleep 1"}}}, nil
}

func (f *fakeMonitor) ContainerStats(_ context.Context, name string, opt StatsOptions) (<-chan container.StatsResponse, error) {
	f.statsOpt = opt
	ch := make(chan container.StatsResponse, f.samples)
	for range f.samples {
		ch <- container.StatsResponse{ID: name, Networks: map[string]container.NetworkStats{"tap0": {RxBytes: 5}, "lo": {RxBytes: 1}}}
	}
	close(ch)
	return ch, nil
}

func (f *fakeMonitor) ContainerPause(context.Context, string) error {
	if f.paused {
		return errdefs.Errorf(errdefs.Conflict, "already paused")
	}
	f.paused = true
	return nil
}

func (f *fakeMonitor) ContainerUnpause(context.Context, string) error { f.paused = false; return nil }

func (f *fakeMonitor) ContainerUpdate(_ context.Context, _ string, cfg container.UpdateConfig) (container.UpdateResponse, error) {
	f.update = cfg
	return container.UpdateResponse{}, nil
}

func newMonitorServer(t *testing.T, f *fakeMonitor) *Server {
	t.Helper()
	return New(Opt{Backends: Backends{System: &fakeSystem{bus: events.New()}, Containers: f}, BaseContext: context.Background(),
		CORSOrigin: func() string { return "" }})
}

func doBody(t *testing.T, s *Server, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func TestContainerTopHandler(t *testing.T) {
	f := &fakeMonitor{}
	s := newMonitorServer(t, f)
	rec := do(t, s, http.MethodGet, "/containers/c1/top")
	if rec.Code != 200 || f.psArgs != "-ef" {
		t.Fatalf("top: %d %s, ps args %q", rec.Code, rec.Body, f.psArgs)
	}
	var res container.TopResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || len(res.Processes) != 1 || res.Titles[0] != "PID" {
		t.Errorf("top body %s (%v)", rec.Body, err)
	}
	do(t, s, http.MethodGet, "/containers/c1/top?ps_args=aux")
	if f.psArgs != "aux" {
		t.Errorf("ps_args = %q, want aux", f.psArgs)
	}
	if rec := do(t, s, http.MethodGet, "/containers/c2/top"); rec.Code != http.StatusConflict {
		t.Errorf("top of a stopped container: %d, want 409", rec.Code)
	}
}

func TestContainerStatsHandler(t *testing.T) {
	f := &fakeMonitor{samples: 3}
	s := newMonitorServer(t, f)
	rec := do(t, s, http.MethodGet, "/containers/c1/stats")
	if rec.Code != 200 || !f.statsOpt.Stream {
		t.Fatalf("stats: %d, opt %+v; want 200 and stream by default", rec.Code, f.statsOpt)
	}
	if n := strings.Count(rec.Body.String(), "\n"); n != 3 {
		t.Errorf("stream wrote %d lines, want one per sample (3)", n)
	}
	do(t, s, http.MethodGet, "/containers/c1/stats?stream=false&one-shot=1")
	if f.statsOpt.Stream || !f.statsOpt.OneShot {
		t.Errorf("stream=false&one-shot=1 gave %+v", f.statsOpt)
	}
	f.samples = 1
	rec = do(t, s, http.MethodGet, "/v1.20/containers/c1/stats?stream=0")
	var old map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &old); err != nil {
		t.Fatal(err)
	}
	if _, ok := old["networks"]; ok || !strings.Contains(string(old["network"]), `"rx_bytes":6`) {
		t.Errorf("API 1.20 stats: want one summed network object, got %s", rec.Body)
	}
}

func TestContainerPauseHandlers(t *testing.T) {
	f := &fakeMonitor{}
	s := newMonitorServer(t, f)
	if rec := do(t, s, http.MethodPost, "/containers/c1/pause"); rec.Code != http.StatusNoContent || !f.paused {
		t.Errorf("pause: %d, paused %v", rec.Code, f.paused)
	}
	if rec := do(t, s, http.MethodPost, "/containers/c1/pause"); rec.Code != http.StatusConflict {
		t.Errorf("pause of a paused container: %d, want 409", rec.Code)
	}
	if rec := do(t, s, http.MethodPost, "/containers/c1/unpause"); rec.Code != http.StatusNoContent || f.paused {
		t.Errorf("unpause: %d, paused %v", rec.Code, f.paused)
	}
}

func TestContainerUpdateHandler(t *testing.T) {
	f := &fakeMonitor{}
	s := newMonitorServer(t, f)
	rec := doBody(t, s, http.MethodPost, "/containers/c1/update", `{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2},"Memory":1024}`)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"Warnings":[]}` {
		t.Fatalf("update: %d %s", rec.Code, rec.Body)
	}
	if f.update.RestartPolicy.Name != "on-failure" || f.update.RestartPolicy.MaximumRetryCount != 2 || f.update.Memory != 1024 {
		t.Errorf("update config = %+v", f.update)
	}
	if rec := doBody(t, s, http.MethodPost, "/containers/c1/update", `{`); rec.Code != http.StatusBadRequest {
		t.Errorf("invalid JSON: %d, want 400", rec.Code)
	}
}
