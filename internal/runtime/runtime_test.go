package runtime

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunLogsAndExitCode(t *testing.T) {
	r, _ := newTestRuntime(t)
	spec := testSpec(t, nil, "sh", "-c", "echo hi; echo oops >&2; exit 3")
	ex, logText := run(t, r, "c1", spec, IOOpt{})
	if ex.ExitCode != 3 {
		t.Fatalf("exit code %d (%+v), want 3", ex.ExitCode, ex)
	}
	var got []logEntry
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		var e logEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		got = append(got, e)
	}
	want := map[string]string{"stdout": "hi\n", "stderr": "oops\n"}
	for _, e := range got {
		if want[e.Stream] == e.Log {
			delete(want, e.Stream)
		}
	}
	if len(want) != 0 || len(got) != 2 {
		t.Fatalf("log %q: missing %v", logText, want)
	}
}

func TestPidOneAndNoHostProcesses(t *testing.T) {
	r, _ := newTestRuntime(t)
	spec := testSpec(t, nil, "sh", "-c", `echo pid=$$; echo procs=$(ls /proc | grep -c '^[0-9]'); hostname`)
	ex, logText := run(t, r, "c1", spec, IOOpt{})
	if ex.ExitCode != 0 {
		t.Fatalf("exit %+v, log %s", ex, logText)
	}
	for _, want := range []string{`pid=1\n`, `ctr\n`} {
		if !strings.Contains(logText, want) {
			t.Errorf("log lacks %q:\n%s", want, logText)
		}
	}
	// sh, its $(...) subshell, ls and grep: nothing of the host's.
	host, _ := filepath.Glob("/proc/[0-9]*")
	var n int
	if i := strings.Index(logText, "procs="); i < 0 || len(host) <= 4 {
		t.Fatalf("cannot compare process counts: host %d, log %s", len(host), logText)
	} else if _, err := fmt.Sscanf(logText[i:], "procs=%d", &n); err != nil || n > 4 {
		t.Fatalf("container sees %d processes (%v), host has %d", n, err, len(host))
	}
}

func TestTty(t *testing.T) {
	r, _ := newTestRuntime(t)
	spec := testSpec(t, func(o *SpecOpt) { o.Tty = true }, "sh", "-c", "tty; echo $TERM")
	ex, logText := run(t, r, "c1", spec, IOOpt{Tty: true})
	if ex.ExitCode != 0 {
		t.Fatalf("exit %+v, log %s", ex, logText)
	}
	if !strings.Contains(logText, `/dev/pts/0\r\n`) || !strings.Contains(logText, `xterm\r\n`) {
		t.Fatalf("log %s", logText)
	}
}
