package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestSecondDaemonSameDataRoot: one daemon per data root; the second says
// who holds it.
func TestSecondDaemonSameDataRoot(t *testing.T) {
	shared := harness.Shared(t)
	d := harness.NewDaemon(t, harness.Options{DataRoot: shared.DataRoot})
	d.Launch(t)
	if code := d.WaitExit(t, 30*time.Second); code == 0 {
		t.Fatalf("second daemon on %s exited 0, want failure", shared.DataRoot)
	}
	log := d.Log()
	for _, pid := range shared.Processes() {
		if regexp.MustCompile(`\b` + strconv.Itoa(pid) + `\b`).MatchString(log) {
			return
		}
	}
	t.Errorf("second daemon's error does not name a pid of the running daemon %v:\n%s", shared.Processes(), log)
}

func TestTLSVerify(t *testing.T) {
	x := harness.NewTLS(t)
	addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	base := "https://" + addr
	d := harness.NewDaemon(t, harness.Options{
		Hosts: []string{"tcp://" + addr},
		Args:  x.DaemonArgs(),
		Ready: func(ctx context.Context) error { return daemon.Ping(ctx, x.HTTPClient(true), base) },
	})
	d.Start(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/_ping", nil)
	if r := harness.Do(t, x.HTTPClient(true), req); r.StatusCode != http.StatusOK {
		t.Errorf("ping with client cert = %d, want 200", r.StatusCode)
	}
	if err := pingNoCert(t.Context(), x.HTTPClient(false), base); err == nil {
		t.Error("ping without client cert succeeded, want the TLS handshake refused")
	}
	out := d.DockerOK(t, "-H", "tcp://"+addr, "--tlsverify", "--tlscacert", x.CACert,
		"--tlscert", x.ClientCert, "--tlskey", x.ClientKey, "version", "--format", "{{.Server.APIVersion}}")
	if strings.TrimSpace(out) == "" {
		t.Error("docker --tlsverify version printed no server API version")
	}
}

// pingNoCert returns nil only if the daemon answered 200 to a client that
// presented no certificate.
func pingNoCert(ctx context.Context, c *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func TestTCPWithoutTLSRefused(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	d := harness.NewDaemon(t, harness.Options{Hosts: []string{"tcp://" + addr}})
	d.Launch(t)
	if code := d.WaitExit(t, 30*time.Second); code == 0 {
		t.Fatal("daemon with tcp:// and no TLS exited 0, want refusal")
	}
	if log := strings.ToLower(d.Log()); !strings.Contains(log, "tls") {
		t.Errorf("refusal does not mention TLS:\n%s", d.Log())
	}
}

// TestEventsPolling: with until, /events returns the recorded events and
// ends instead of streaming forever.
func TestEventsPolling(t *testing.T) {
	d := harness.Shared(t)
	now := time.Now().Unix()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	path := fmt.Sprintf("/events?since=%d&until=%d", now-60, now+1)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	resp, err := d.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev map[string]any
		err := dec.Decode(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("GET %s: decode event (did it hang?): %v", path, err)
		}
	}
	out := d.DockerOK(t, "events", "--since", strconv.FormatInt(now-60, 10), "--until", strconv.FormatInt(time.Now().Unix(), 10))
	t.Logf("docker events: %q", out)
}

// TestStopIsClean: SIGTERM to the parent must end the whole tree with exit
// status 0, every time (a second signal racing the shutdown must not kill
// the namespaced daemon). Several rounds because the race is timing-bound.
func TestStopIsClean(t *testing.T) {
	for i := range 5 {
		d := harness.NewDaemon(t, harness.Options{})
		d.Start(t)
		pids := d.Processes()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		err := d.Stop(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		for _, pid := range pids {
			if _, err := daemon.UIDs(pid); err == nil {
				t.Errorf("round %d: pid %d (%s) outlived the daemon", i, pid, daemon.Cmdline(pid))
			}
		}
	}
}
