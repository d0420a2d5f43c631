package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkRunTrue measures create+start+wait(+delete) of `true` and
// reports the median in ms and the RSS of a running container's shim.
func BenchmarkRunTrue(b *testing.B) {
	r, _ := newTestRuntime(b)
	spec := testSpec(b, nil, "true")
	ctx := testCtx(b)
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("b%d", i)
		start := time.Now()
		if err := r.Create(ctx, id, spec, IOOpt{}); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if ex, err := r.Wait(ctx, id); err != nil || ex.ExitCode != 0 {
			b.Fatalf("wait %+v %v", ex, err)
		}
		times = append(times, time.Since(start))
		if err := r.Delete(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	startSleeper(b, r, "rss")
	b.ReportMetric(float64(shimRSS(b, "rss")), "shim-rss-kB")
}

// shimRSS finds the shim of container id by its argv and reads VmRSS.
func shimRSS(b *testing.B, id string) int {
	want := []byte("dockerd-lite-shim\x00" + id + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if cmd, _ := os.ReadFile(d + "/cmdline"); bytes.Equal(cmd, want) {
			st, _ := os.ReadFile(d + "/status")
			for _, line := range strings.Split(string(st), "\n") {
				var kb int
				if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
					return kb
				}
			}
		}
	}
	b.Fatal("shim process not found")
	return 0
}
