package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/system"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
)

type fakeSystem struct {
	bus *events.Bus
}

func (f *fakeSystem) SystemInfo(context.Context) (*system.Info, error) {
	return &system.Info{ID: "test-id", SecurityOptions: []string{"name=rootless"}}, nil
}

func (f *fakeSystem) SystemVersion(context.Context) (system.VersionResponse, error) {
	return system.VersionResponse{Version: "1.0", APIVersion: MaxVersion, MinAPIVersion: MinVersion,
		Platform: system.PlatformInfo{Name: "dockerd-lite"}, Components: []system.ComponentVersion{{Name: "Engine"}}}, nil
}

func (f *fakeSystem) SubscribeEvents(ctx context.Context, since time.Time, flt events.Filter) ([]events.Event, <-chan events.Event) {
	return f.bus.Subscribe(ctx, since, flt)
}

func (f *fakeSystem) SystemDiskUsage(context.Context) (DiskUsage, error) { return DiskUsage{}, nil }

func newTestServer(t *testing.T) (*Server, *fakeSystem) {
	t.Helper()
	fs := &fakeSystem{bus: events.New()}
	cors := "http://example.test"
	return New(Opt{Backends: Backends{System: fs}, BaseContext: context.Background(), CORSOrigin: func() string { return cors }}), fs
}

func do(t *testing.T, s *Server, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestStatusFromError(t *testing.T) {
	base := errors.New("x")
	cases := []struct {
		err  error
		want int
	}{
		{errdefs.NotFound(base), 404},
		{errdefs.InvalidParameter(base), 400},
		{errdefs.Conflict(base), 409},
		{fmt.Errorf("ctx: %w", errdefs.ErrAlreadyExists), 409},
		{errdefs.NotModified(base), 304},
		{errdefs.Unauthorized(base), 401},
		{errdefs.Forbidden(base), 403},
		{errdefs.NotImplemented(base), 501},
		{errdefs.Unavailable(base), 503},
		{fmt.Errorf("wrapped: %w", errdefs.NotFound(base)), 404},
		{base, 500},
		{echo.ErrNotFound, 404},
		{&http.MaxBytesError{Limit: 1}, 413},
	}
	for _, tc := range cases {
		if got := statusFromError(tc.err); got != tc.want {
			t.Errorf("statusFromError(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestErrorsKeepDockerMessages(t *testing.T) {
	err := errdefs.Errorf(errdefs.NotFound, "No such container: %s", "foo")
	if err.Error() != "No such container: foo" || !errdefs.IsNotFound(err) {
		t.Fatalf("got %q, class kept: %v", err, errdefs.IsNotFound(err))
	}
}

func TestVersionPrefix(t *testing.T) {
	s, _ := newTestServer(t)
	cases := []struct {
		path   string
		status int
		msg    string
	}{
		{"/_ping", 200, ""},
		{"/v1.21/_ping", 200, ""},
		{"/v1.12/version", 200, ""},
		{"/v1.47/info", 200, ""},
		{"/v1.11/info", 400, "client version 1.11 is too old. Minimum supported API version is 1.12"},
		{"/v9.99/info", 400, "client version 9.99 is too new. Maximum supported API version is 1.47"},
		{"/nope", 404, "page not found"},
		{"/v1.40/plugins", 501, "GET /plugins is not implemented yet"},
		{"/swarm", 503, "This node is not a swarm manager"},
	}
	for _, tc := range cases {
		rec := do(t, s, http.MethodGet, tc.path)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.path, rec.Code, tc.status, rec.Body)
			continue
		}
		if tc.msg == "" {
			continue
		}
		var body struct{ Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Message, tc.msg) {
			t.Errorf("%s: body %q, want message containing %q", tc.path, rec.Body, tc.msg)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q", tc.path, ct)
		}
	}
}

func TestHeaders(t *testing.T) {
	s, _ := newTestServer(t)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		rec := do(t, s, m, "/_ping")
		h := rec.Header()
		for k, want := range map[string]string{"Api-Version": MaxVersion, "Docker-Experimental": "false", "Ostype": "linux",
			"Builder-Version": "1", "Swarm": "inactive", "Access-Control-Allow-Origin": "http://example.test"} {
			if h.Get(k) != want {
				t.Errorf("%s /_ping: %s = %q, want %q", m, k, h.Get(k), want)
			}
		}
		if !strings.HasPrefix(h.Get("Server"), "dockerd-lite/") {
			t.Errorf("Server = %q", h.Get("Server"))
		}
		if m == http.MethodGet && rec.Body.String() != "OK" {
			t.Errorf("body = %q", rec.Body)
		}
	}
	if rec := do(t, s, http.MethodOptions, "/anything"); rec.Code != 200 {
		t.Errorf("CORS preflight: %d", rec.Code)
	}
}

func TestVersionByAPI(t *testing.T) {
	s, _ := newTestServer(t)
	var old, cur map[string]any
	json.Unmarshal(do(t, s, http.MethodGet, "/v1.21/version").Body.Bytes(), &old)
	json.Unmarshal(do(t, s, http.MethodGet, "/version").Body.Bytes(), &cur)
	if _, ok := old["Components"]; ok {
		t.Errorf("v1.21 /version has Components: %v", old)
	}
	if _, ok := old["MinAPIVersion"]; ok {
		t.Errorf("v1.21 /version has MinAPIVersion")
	}
	if cur["MinAPIVersion"] != MinVersion || cur["Components"] == nil {
		t.Errorf("current /version = %v", cur)
	}
}

func TestParseImagePath(t *testing.T) {
	cases := []struct {
		method, rest string
		want         imagePath
		ok           bool
	}{
		{"GET", "busybox/json", imagePath{"busybox", "json"}, true},
		{"GET", "localhost:5000/team/app:v1/json", imagePath{"localhost:5000/team/app:v1", "json"}, true},
		{"GET", "a/b@sha256:abc/history", imagePath{"a/b@sha256:abc", "history"}, true},
		{"GET", "a/b/get", imagePath{"a/b", "get"}, true},
		{"POST", "a/b/tag", imagePath{"a/b", "tag"}, true},
		{"POST", "a/b/push", imagePath{"a/b", "push"}, true},
		{"POST", "a/b/json", imagePath{}, false},
		{"GET", "json", imagePath{}, false},
		{"DELETE", "reg:5000/a/b:1", imagePath{"reg:5000/a/b:1", ""}, true},
		{"DELETE", "", imagePath{}, false},
	}
	for _, tc := range cases {
		got, ok := parseImagePath(tc.method, tc.rest)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseImagePath(%s, %q) = %+v, %v; want %+v, %v", tc.method, tc.rest, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEventsPollAndStream(t *testing.T) {
	s, fs := newTestServer(t)
	now := time.Now()
	fs.bus.Publish(events.Event{Type: "image", Action: "tag", ID: "busybox", Time: now.Add(-2 * time.Second)})
	fs.bus.Publish(events.Event{Type: "container", Action: "start", ID: "c1", Time: now.Add(-time.Second),
		Attributes: map[string]string{"image": "busybox"}})
	q := fmt.Sprintf("/events?since=%d&until=%d&filters=%s", now.Add(-time.Minute).Unix(), now.Unix()+1, `{"type":["container"]}`)
	rec := do(t, s, http.MethodGet, q)
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if rec.Code != 200 || len(lines) != 1 {
		t.Fatalf("status %d, lines %q", rec.Code, lines)
	}
	var ev map[string]any
	json.Unmarshal([]byte(lines[0]), &ev)
	if ev["Action"] != "start" || ev["status"] != "start" || ev["from"] != "busybox" || ev["timeNano"] == nil {
		t.Errorf("event = %v", ev)
	}
	rec = do(t, s, http.MethodGet, "/v1.21/"+q[1:])
	ev = nil
	json.Unmarshal(rec.Body.Bytes(), &ev)
	if _, ok := ev["Action"]; ok || ev["timeNano"] == nil {
		t.Errorf("v1.21 event: want timeNano and no Action: %v", ev)
	}
	rec = do(t, s, http.MethodGet, "/v1.20/"+q[1:])
	ev = nil
	json.Unmarshal(rec.Body.Bytes(), &ev)
	if _, ok := ev["timeNano"]; ok || ev["status"] != "start" {
		t.Errorf("v1.20 event: want status and no timeNano: %v", ev)
	}
	if rec := do(t, s, http.MethodGet, "/events?since=10&until=5"); rec.Code != 400 {
		t.Errorf("until before since: %d", rec.Code)
	}
}

func TestEventsFollow(t *testing.T) {
	s, fs := newTestServer(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for fs.bus.Listeners() == 0 { // the header is flushed only after subscribing
		time.Sleep(time.Millisecond)
	}
	fs.bus.Publish(events.Event{Type: "daemon", Action: "reload", ID: "d"})
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"reload"`) {
		t.Fatalf("line %q, err %v", line, err)
	}
}
