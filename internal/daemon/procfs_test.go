package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

func TestParseProcStat(t *testing.T) {
	// the command holds a space and a ")": fields count from the last ")"
	line := "42 (my) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 5 2 20 0 1 0 1000 1234567 321 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{state: 'S', utime: 7, stime: 3, cutime: 5, cstime: 2, rssPages: 321}
	if st != want {
		t.Errorf("parseProcStat = %+v, want %+v", st, want)
	}
	if _, err := parseProcStat([]byte("42 (x) S 1 2")); err == nil {
		t.Error("a truncated stat line parsed without error")
	}
}

func TestParseSystemCPU(t *testing.T) {
	in := "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1 2\n"
	total, cpus, err := parseSystemCPU(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if total != 1000*nsPerTick || cpus != 2 {
		t.Errorf("parseSystemCPU = %d, %d; want %d, 2", total, cpus, uint64(1000*nsPerTick))
	}
	if _, _, err := parseSystemCPU(strings.NewReader("intr 1\n")); err == nil {
		t.Error("no cpu line parsed without error")
	}
}

func TestParseNetDev(t *testing.T) {
	in := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  tap0: 5000 40 1 2 0 0 0 0 7000 50 3 4 0 0 0 0
`
	got, err := parseNetDev(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := container.NetworkStats{RxBytes: 5000, RxPackets: 40, RxErrors: 1, RxDropped: 2, TxBytes: 7000, TxPackets: 50, TxErrors: 3, TxDropped: 4}
	if len(got) != 2 || got["tap0"] != want || got["lo"].RxBytes != 100 {
		t.Errorf("parseNetDev = %+v", got)
	}
}

func TestParseProcIO(t *testing.T) {
	in := "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n"
	r, w, err := parseProcIO(strings.NewReader(in))
	if err != nil || r != 4096 || w != 8192 {
		t.Errorf("parseProcIO = %d, %d, %v; want 4096, 8192, nil", r, w, err)
	}
}

func TestParsePS(t *testing.T) {
	out := "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
		"root           1       0  0 10:00 ?        00:00:01 /sbin/init\n" +
		"1000         500       1  0 10:01 ?        00:00:00 sleep  1000\n" +
		"1000         501     500  0 10:01 ?        00:00:00 sh -c echo hi\n"
	res, err := parsePS(out, []int{500, 501})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Titles) != 8 || len(res.Processes) != 2 {
		t.Fatalf("parsePS = %+v", res)
	}
	if got := res.Processes[1][7]; got != "sh -c echo hi" {
		t.Errorf("command column = %q, want the whole command", got)
	}
	if _, err := parsePS("USER COMMAND\nroot init\n", []int{1}); err == nil {
		t.Error("ps output without a PID column parsed without error")
	}
}

func TestShouldRestart(t *testing.T) {
	mk := func(name container.RestartPolicyMode, max, count int, manual bool) *ctr.Container {
		return &ctr.Container{HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: name, MaximumRetryCount: max}},
			RestartCount: count, ManualStop: manual}
	}
	cases := []struct {
		c    *ctr.Container
		code int
		want bool
	}{
		{mk("", 0, 0, false), 1, false},
		{mk("no", 0, 0, false), 1, false},
		{mk("always", 0, 5, false), 0, true},
		{mk("always", 0, 0, true), 0, false},
		{mk("unless-stopped", 0, 0, false), 0, true},
		{mk("unless-stopped", 0, 0, true), 1, false},
		{mk("on-failure", 0, 9, false), 1, true},
		{mk("on-failure", 0, 0, false), 0, false},
		{mk("on-failure", 2, 1, false), 1, true},
		{mk("on-failure", 2, 2, false), 1, false},
	}
	for i, tc := range cases {
		if got := shouldRestart(tc.c, tc.code); got != tc.want {
			t.Errorf("case %d (%+v, code %d): shouldRestart = %v, want %v", i, tc.c.HostConfig.RestartPolicy, tc.code, got, tc.want)
		}
	}
}

func TestRestartBackoff(t *testing.T) {
	d := &Daemon{}
	c := &ctr.Container{ID: "x", HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "always"}}}
	var got []time.Duration
	for _, ran := range []time.Duration{time.Second, time.Second, time.Second, 11 * time.Second, time.Second} {
		delay, ok := d.markRestarting(c, ran)
		if !ok || c.State.Status != container.StateRestarting {
			t.Fatalf("markRestarting = %v, status %q", ok, c.State.Status)
		}
		got = append(got, delay)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delays = %v, want %v", got, want)
			break
		}
	}
}

func TestHealthConfig(t *testing.T) {
	c := &ctr.Container{Config: &container.Config{Healthcheck: &container.HealthConfig{Test: []string{"CMD-SHELL", "exit 1"}}}}
	cfg := healthConfig(c)
	if cfg == nil || cfg.Interval != 30*time.Second || cfg.Timeout != 30*time.Second || cfg.Retries != 3 {
		t.Errorf("defaults: %+v", cfg)
	}
	if argv := probeArgv(cfg.Test); strings.Join(argv, "|") != "/bin/sh|-c|exit 1" {
		t.Errorf("CMD-SHELL argv = %q", argv)
	}
	if argv := probeArgv([]string{"CMD", "true", "x"}); strings.Join(argv, "|") != "true|x" {
		t.Errorf("CMD argv = %q", argv)
	}
	c.Config.Healthcheck.Test = []string{"NONE"}
	if healthConfig(c) != nil {
		t.Error("NONE gave a health check")
	}
}
