package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestLegacyStartHostConfig: before API 1.24 a client may send the host
// configuration with start (v1.21's "for backwards compatibility"); its
// binds then apply. From 1.24 on the body is ignored.
func TestLegacyStartHostConfig(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "marker", []byte("from the host\n"), 0o644)
	for _, tc := range []struct {
		version string
		want    string
	}{{"v1.21", "from the host"}, {"v1.24", "no bind"}} {
		create := `{"Image":"` + img + `","Cmd":["sh","-c","cat /mnt/h/marker 2>/dev/null || echo no bind"]}`
		r := d.Curl(t, http.MethodPost, "/"+tc.version+"/containers/create", strings.NewReader(create))
		var res struct{ Id string }
		if err := json.Unmarshal([]byte(r.Body), &res); err != nil || r.StatusCode != http.StatusCreated {
			t.Fatalf("%s create: %d %s", tc.version, r.StatusCode, r.Body)
		}
		t.Cleanup(func() { ctRemove(t, d, res.Id) })
		start := `{"Binds":["` + dir + `:/mnt/h:ro"]}`
		if r := d.Curl(t, http.MethodPost, "/"+tc.version+"/containers/"+res.Id+"/start", strings.NewReader(start)); r.StatusCode != http.StatusNoContent {
			t.Fatalf("%s start: %d %s", tc.version, r.StatusCode, r.Body)
		}
		d.DockerOK(t, "wait", res.Id)
		if out := strings.TrimSpace(d.DockerOK(t, "logs", res.Id)); out != tc.want {
			t.Errorf("%s: container printed %q, want %q", tc.version, out, tc.want)
		}
	}
}
