package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPreparedShim: a prepared shim serves Create; one that Create does
// not use ends with Release and leaves no directories.
func TestPreparedShim(t *testing.T) {
	r, _ := newTestRuntime(t)
	ctx := testCtx(t)
	r.Prepare(ctx, "p1")
	if shimPid("p1") == 0 {
		t.Fatal("no prepared shim")
	}
	if ex, logText := run(t, r, "p1", testSpec(t, nil, "echo", "prepared"), IOOpt{}); ex.ExitCode != 0 || !strings.Contains(logText, "prepared") {
		t.Fatalf("prepared run: %+v %s", ex, logText)
	}
	waitNoShim(t, "p1")  // Create used the prepared shim, which ended with the container
	r.Prepare(ctx, "p1") // has a container: nothing to prepare
	if _, ok := r.prepared.Load("p1"); ok {
		t.Fatal("prepared a shim for an existing container")
	}
	r.Prepare(ctx, "p2")
	r.Release("p2")
	waitNoShim(t, "p2")
	if _, err := os.Stat(r.stateDir("p2")); !os.IsNotExist(err) {
		t.Fatalf("state dir of a released shim: %v", err)
	}
}

func waitNoShim(t *testing.T, id string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); shimPid(id) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("shim of %s still runs", id)
		}
	}
}

// shimPid finds the shim of container id by its argv (0: none).
func shimPid(id string) int {
	want := []byte("dockerd-lite-shim\x00" + id + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if b, _ := os.ReadFile(d + "/cmdline"); bytes.Equal(b, want) {
			if st, _ := os.ReadFile(d + "/stat"); !strings.Contains(string(st), ") Z ") {
				var pid int
				pid, _ = strconv.Atoi(filepath.Base(d))
				return pid
			}
		}
	}
	return 0
}
