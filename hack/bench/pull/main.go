// Command pull measures how fast dockerd-lite pulls a large image and how
// much memory the daemon needs for it:
//
//	go run ./hack/bench/pull [-n 3] [-size 256] [-bin path]
//
// It builds a single-layer image holding one file of -size MiB of random
// bytes (gzip, fastest level: random data does not shrink), serves it from
// an in-memory go-containerregistry registry on 127.0.0.1 inside this
// process, and then, n times, starts a daemon on fresh directories (as the
// current user, or as dltest-e2e when run as root) and pulls the image
// through the Engine API (the Go client's ImagePull, draining the progress
// stream). Each run prints the wall time of the pull, the throughput in MB/s
// of uncompressed layer size, and the peak RSS of every process of the
// daemon's tree: VmHWM, reset just before the pull, and the largest summed
// VmRSS seen while polling every 10 ms. It ends with a table of medians. It
// asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

type options struct {
	n       int
	sizeMiB int64
	bin     string
	level   string
	keep    string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 3, "number of pulls, each on a fresh daemon and data root")
	flag.Int64Var(&o.sizeMiB, "size", 256, "layer size in MiB (uncompressed)")
	flag.StringVar(&o.bin, "bin", os.Getenv(daemon.BinaryEnv), "dockerd-lite binary (default: build ./cmd/dockerd-lite)")
	flag.StringVar(&o.level, "log-level", "info", "daemon --log-level")
	flag.StringVar(&o.keep, "keep-logs", "", "copy each run's daemon log to PREFIX-N.log")
	flag.Parse()
	benchkit.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	if o.n < 1 || o.sizeMiB < 1 {
		return errors.New("-n and -size must be at least 1")
	}
	id, bin, cleanup, err := benchkit.Setup(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	t0 := time.Now()
	ref, stopRegistry, err := serveImage(ctx, o.sizeMiB<<20)
	if err != nil {
		return err
	}
	defer stopRegistry()
	benchkit.PrintLoad()
	fmt.Printf("binary %s, user %s (uid %d); image %s (%d MiB layer) ready in %s\n",
		bin, id.Name, id.UID, ref, o.sizeMiB, time.Since(t0).Round(time.Millisecond))
	var samples []sample
	for i := 1; i <= o.n; i++ {
		cfg := daemon.Config{Binary: bin, Identity: id, LogLevel: o.level}
		keep := ""
		if o.keep != "" {
			keep = fmt.Sprintf("%s-%d.log", o.keep, i)
		}
		s, err := once(ctx, cfg, ref, keep)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		s.print(i, o.sizeMiB<<20)
		samples = append(samples, s)
	}
	summarize(samples, o.sizeMiB<<20)
	return nil
}

func summarize(samples []sample, size int64) {
	var took []time.Duration
	var hwm, sum []int
	var cpu []time.Duration
	for _, s := range samples {
		took = append(took, s.took)
		cpu = append(cpu, s.user+s.sys)
		hwm = append(hwm, s.maxHWM())
		sum = append(sum, s.peakSum)
	}
	med := benchkit.Median(took)
	benchkit.PrintTable(fmt.Sprintf("pull %d MiB single-layer image from a loopback registry (median of %d)", size>>20, len(samples)), []benchkit.Row{
		{Figure: "pull time", Value: fmt.Sprintf("%.2f s (runs: %s ms)", med.Seconds(), benchkit.Durations(took)), Target: "< 1.1 s (2x faster than 2.2 s)"},
		{Figure: "throughput", Value: fmt.Sprintf("%.0f MB/s", float64(size)/1e6/med.Seconds()), Target: "> 244 MB/s"},
		{Figure: "daemon peak RSS (VmHWM, largest process)", Value: benchkit.MiB(benchkit.Median(hwm)), Target: "< 100 MB"},
		{Figure: "daemon tree peak RSS (polled sum)", Value: benchkit.MiB(benchkit.Median(sum)), Target: "(info)"},
		{Figure: "daemon CPU time during the pull (user+sys)", Value: fmt.Sprintf("%.2f s", benchkit.Median(cpu).Seconds()), Target: "(info)"},
	})
}
