// Command startup measures dockerd-lite's start-up time and idle memory:
//
//	go run ./hack/bench/startup [-n 10] [-idle 1s] [-bin path]
//
// Each of the n runs starts the daemon on fresh temporary directories (as
// the current user, or as dltest-e2e when run as root), measures the wall
// time from exec to the first successful GET /_ping, lets it idle, then
// reads VmRSS of every process in its tree (parent, namespaced daemon, any
// helper) before stopping it with SIGTERM. It prints every run, then the
// median and minimum. It asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

type options struct {
	n    int
	idle time.Duration
	bin  string
}

type sample struct {
	startup time.Duration
	rssKiB  int
	pssKiB  int
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10, "number of daemon starts")
	flag.DurationVar(&o.idle, "idle", time.Second, "idle time before reading RSS")
	flag.StringVar(&o.bin, "bin", os.Getenv(daemon.BinaryEnv), "dockerd-lite binary (default: build ./cmd/dockerd-lite)")
	flag.Parse()
	benchkit.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	if o.n < 1 {
		return errors.New("-n must be at least 1")
	}
	id, bin, cleanup, err := benchkit.Setup(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Printf("binary %s, user %s (uid %d), %d runs, %s idle\n", bin, id.Name, id.UID, o.n, o.idle)
	benchkit.PrintLoad()
	var samples []sample
	for i := 1; i <= o.n; i++ {
		s, err := once(ctx, daemon.Config{Binary: bin, Identity: id, LogLevel: "info", PollInterval: 2 * time.Millisecond}, o.idle, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		samples = append(samples, s)
	}
	summarize(samples)
	return nil
}

// once starts one daemon, measures it and stops it.
func once(ctx context.Context, cfg daemon.Config, idle time.Duration, i int) (s sample, err error) {
	d, err := daemon.New(cfg)
	if err != nil {
		return s, err
	}
	defer func() { err = errors.Join(err, d.Cleanup(context.WithoutCancel(ctx))) }()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.Start(rctx); err != nil {
		return s, err
	}
	s.startup = time.Since(d.StartedAt())
	// The idle pause is the point of the measurement, not a readiness wait.
	select {
	case <-time.After(idle):
	case <-ctx.Done():
	}
	s.rssKiB, s.pssKiB = printRun(i, s.startup, d.PID())
	sctx, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel2()
	return s, d.Stop(sctx)
}

// printRun prints the start-up time and the RSS of every process in the
// daemon's tree, and returns the summed RSS and PSS.
func printRun(i int, startup time.Duration, pid int) (rss, pss int) {
	var parts []string
	for _, p := range daemon.Tree(pid) {
		kb, err := daemon.RSSKiB(p)
		if err != nil {
			continue // exited, or a kernel thread without VmRSS
		}
		rss += kb
		if pkb, err := daemon.PSSKiB(p); err == nil {
			pss += pkb
		}
		parts = append(parts, fmt.Sprintf("%d KiB %s(%d)", kb, shortCmd(p), p))
	}
	fmt.Printf("run %2d: ready in %7.1f ms; VmRSS %s = %d KiB (PSS sum %d KiB)\n",
		i, float64(startup.Microseconds())/1000, strings.Join(parts, " + "), rss, pss)
	return rss, pss
}

// shortCmd names a process by its comm and, when different, the base of
// argv[0] (re-executions via /proc/self/exe show up as "exe").
func shortCmd(pid int) string {
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	name := strings.TrimSpace(string(comm))
	if f := strings.Fields(daemon.Cmdline(pid)); len(f) > 0 && filepath.Base(f[0]) != name {
		name += "[" + f[0] + "]"
	}
	if name == "" {
		return "?"
	}
	return name
}

func summarize(samples []sample) {
	ups := make([]time.Duration, len(samples))
	rss := make([]int, len(samples))
	pss := make([]int, len(samples))
	for i, s := range samples {
		ups[i], rss[i], pss[i] = s.startup, s.rssKiB, s.pssKiB
	}
	slices.Sort(ups)
	slices.Sort(rss)
	slices.Sort(pss)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("startup: median %.1f ms, min %.1f ms (n=%d)\n", ms(median(ups)), ms(ups[0]), len(ups))
	fmt.Printf("VmRSS sum: median %d KiB, min %d KiB\n", median(rss), rss[0])
	fmt.Printf("PSS sum:   median %d KiB, min %d KiB (shared pages counted once)\n", median(pss), pss[0])
	benchkit.PrintTable(fmt.Sprintf("startup (median of %d)", len(samples)), []benchkit.Row{
		{Figure: "exec to served /_ping", Value: benchkit.Ms(median(ups)), Target: "< 50 ms"},
		{Figure: "idle VmRSS, whole process tree", Value: benchkit.MiB(median(rss)), Target: "< 25 MB"},
		{Figure: "idle PSS, whole process tree", Value: benchkit.MiB(median(pss)), Target: "< 25 MB"},
	})
}

// median of a sorted slice; the mean of the two middle values for an even length.
func median[T int | time.Duration](sorted []T) T {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
