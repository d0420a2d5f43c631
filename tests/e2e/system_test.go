package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

func TestDockerVersion(t *testing.T) {
	d := harness.Shared(t)
	out := d.DockerOK(t, "version")
	if !strings.Contains(out, "Server:") || !strings.Contains(strings.ToLower(out), "dockerd-lite") {
		t.Errorf("docker version shows no dockerd-lite server:\n%s", out)
	}
	var srv struct {
		Platform   struct{ Name string }
		Version    string
		APIVersion string `json:"ApiVersion"`
		Components []struct{ Name, Version string }
	}
	if err := json.Unmarshal([]byte(d.DockerOK(t, "version", "--format", "{{json .Server}}")), &srv); err != nil {
		t.Fatalf("parse server version: %v", err)
	}
	if srv.APIVersion == "" || srv.Version == "" {
		t.Errorf("server version %+v: empty Version or ApiVersion", srv)
	}
	if !strings.Contains(out, srv.APIVersion) {
		t.Errorf("docker version does not show API version %s:\n%s", srv.APIVersion, out)
	}
	v, err := d.Client(t).ServerVersion(t.Context(), client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.APIVersion != srv.APIVersion || v.Os != "linux" {
		t.Errorf("client sees %+v, CLI sees ApiVersion %s", v, srv.APIVersion)
	}
}

func TestDockerInfo(t *testing.T) {
	d := harness.Shared(t)
	out := d.DockerOK(t, "info")
	if !strings.Contains(out, "rootless") {
		t.Errorf("docker info does not mention rootless:\n%s", out)
	}
	var info struct {
		SecurityOptions []string
		DockerRootDir   string
		ServerVersion   string
		Plugins         struct{ Volume, Network []string }
	}
	raw := d.DockerOK(t, "info", "--format", "{{json .}}")
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatalf("docker info --format '{{json .}}' is not JSON: %v\n%s", err, raw)
	}
	for _, want := range []string{"name=rootless", "name=userns"} {
		if !slices.ContainsFunc(info.SecurityOptions, func(o string) bool { return strings.HasPrefix(o, want) }) {
			t.Errorf("SecurityOptions %q lack %s", info.SecurityOptions, want)
		}
	}
	if info.DockerRootDir != d.DataRoot {
		t.Errorf("DockerRootDir = %q, want the data root %q", info.DockerRootDir, d.DataRoot)
	}
	if !slices.Equal(info.Plugins.Volume, []string{"local"}) || !slices.Contains(info.Plugins.Network, "bridge") {
		t.Errorf("Plugins %+v, want the local volume driver and the bridge network driver", info.Plugins)
	}
	res, err := d.Client(t).Info(t.Context(), client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.DockerRootDir != d.DataRoot {
		t.Errorf("client: DockerRootDir = %q, want %q", res.Info.DockerRootDir, d.DataRoot)
	}
}

// TestDaemonRunsAsUser checks the parent and the namespaced daemon (and any
// other child) run with the test user's host uid: nothing is setuid root.
func TestDaemonRunsAsUser(t *testing.T) {
	d := harness.Shared(t)
	uid := harness.Identity().UID
	pids := d.Processes()
	if len(pids) < 2 {
		t.Errorf("process tree %v: want the parent and the namespaced daemon", pids)
	}
	for _, pid := range pids {
		ids, err := daemon.UIDs(pid)
		if err != nil {
			if _, serr := os.Stat("/proc/" + strconv.Itoa(pid)); serr != nil {
				continue // exited between listing and reading
			}
			t.Fatal(err)
		}
		for _, id := range ids {
			if id != uid {
				t.Errorf("pid %d (%s) has uids %v, want all %d", pid, daemon.Cmdline(pid), ids, uid)
				break
			}
		}
	}
}

func TestSocketMode(t *testing.T) {
	d := harness.Shared(t)
	fi, err := os.Lstat(d.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want a socket with 0600", d.SocketPath(), fi.Mode())
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != harness.Identity().UID {
		t.Errorf("socket owned by uid %d, want %d", st.Uid, harness.Identity().UID)
	}
}

func TestPingContract(t *testing.T) {
	d := harness.Shared(t)
	r := d.Curl(t, http.MethodGet, "/v1.21/_ping", nil)
	if r.StatusCode != http.StatusOK || string(r.Body) != "OK" {
		t.Errorf("GET /v1.21/_ping = %d %q, want 200 \"OK\"", r.StatusCode, r.Body)
	}
	for _, h := range []string{"Api-Version", "Server", "Docker-Experimental", "Ostype"} {
		if r.Header.Get(h) == "" {
			t.Errorf("GET /v1.21/_ping: no %s header (headers %v)", h, r.Header)
		}
	}
	if r := d.Curl(t, http.MethodHead, "/_ping", nil); r.StatusCode != http.StatusOK {
		t.Errorf("HEAD /_ping = %d, want 200", r.StatusCode)
	}
	if _, err := d.Client(t).Ping(t.Context(), client.PingOptions{}); err != nil {
		t.Errorf("client ping: %v", err)
	}
}

func TestAPIVersionOutOfRange(t *testing.T) {
	d := harness.Shared(t)
	for _, path := range []string{"/v1.11/info", "/v9.99/info"} {
		r := d.Curl(t, http.MethodGet, path, nil)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", path, r.StatusCode)
		}
		assertJSONMessage(t, path, r)
	}
}

func TestUnknownPath(t *testing.T) {
	d := harness.Shared(t)
	r := d.Curl(t, http.MethodGet, "/nope", nil)
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", r.StatusCode)
	}
	assertJSONMessage(t, "/nope", r)
}

func assertJSONMessage(t *testing.T, path string, r *harness.Response) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q, want application/json", path, ct)
	}
	var body struct{ Message string }
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Message == "" {
		t.Errorf("GET %s: body %q is not {\"message\": ...} (%v)", path, r.Body, err)
	}
}
