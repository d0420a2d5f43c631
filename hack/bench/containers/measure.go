package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// shimEnv marks the shim processes: re-executions of the daemon binary
// in their hidden "shim" mode.
const shimEnv = "_DOCKERD_LITE_MODE=shim"

// shimArgv0 is the argv[0] the runtime gives its shims; argv[1] is the
// container id.
const shimArgv0 = "dockerd-lite-shim"

// bench runs the measurements against one daemon with the image loaded.
type bench struct {
	cli   *benchkit.CLI
	image string
	uid   int
}

func (b *bench) measure(ctx context.Context, o options) (rows []benchkit.Row, err error) {
	_, warm, err := b.cli.Run(ctx, "run", "--rm", b.image, "true")
	if err != nil {
		return nil, err
	}
	fmt.Printf("warm-up run --rm: %s\n", benchkit.Ms(warm))
	version, err := b.repeat(ctx, o.n, "version")
	if err != nil {
		return nil, err
	}
	runRm, err := b.repeat(ctx, o.n, "run", "--rm", b.image, "true")
	if err != nil {
		return nil, err
	}
	ids, runD, err := b.runDetached(ctx, o.d)
	defer b.cleanup(ctx, ids)
	if err != nil {
		return nil, err
	}
	rss, pss, nshim := b.shimMemory(ids)
	execs, err := b.repeat(ctx, o.n, "exec", ids[0], "true")
	if err != nil {
		return nil, err
	}
	return []benchkit.Row{
		{Figure: "docker version (CLI start + 1 API call, median)", Value: benchkit.Ms(benchkit.Median(version)), Target: "(baseline)"},
		{Figure: "docker run --rm IMAGE true (median)", Value: benchkit.Ms(benchkit.Median(runRm)), Target: "< 120 ms"},
		{Figure: "docker exec CTR true (median)", Value: benchkit.Ms(benchkit.Median(execs)), Target: "< 40 ms"},
		{Figure: fmt.Sprintf("%d x docker run -d IMAGE sleep 300 (total)", o.d), Value: benchkit.Ms(runD), Target: "< 1500 ms"},
		{Figure: fmt.Sprintf("docker rm -f of %d (one command)", o.d), Value: b.removeAll(ctx, ids), Target: "< 500 ms"},
		{Figure: fmt.Sprintf("shim VmRSS per container (median of %d)", nshim), Value: benchkit.MiB(rss), Target: "< 4 MB"},
		{Figure: fmt.Sprintf("shim PSS per container (median of %d)", nshim), Value: benchkit.MiB(pss), Target: "< 4 MB"},
	}, nil
}

// repeat runs `docker args...` n times and returns each wall time.
func (b *bench) repeat(ctx context.Context, n int, args ...string) ([]time.Duration, error) {
	var took []time.Duration
	for range n {
		_, t, err := b.cli.Run(ctx, args...)
		if err != nil {
			return nil, err
		}
		took = append(took, t)
	}
	fmt.Printf("%s x%d: %s ms\n", strings.Join(args, " "), n, benchkit.Durations(took))
	return took, nil
}

// runDetached starts n sleeping containers one after the other and returns
// the ids of those that started and the total time.
func (b *bench) runDetached(ctx context.Context, n int) ([]string, time.Duration, error) {
	var ids []string
	var each []time.Duration
	var total time.Duration
	for range n {
		out, took, err := b.cli.Run(ctx, "run", "-d", b.image, "sleep", "300")
		if id := strings.TrimSpace(out); id != "" {
			ids = append(ids, id)
		}
		if err != nil {
			return ids, total, err
		}
		each = append(each, took)
		total += took
	}
	fmt.Printf("run -d x%d: %s ms (total %s)\n", n, benchkit.Durations(each), benchkit.Ms(total))
	return ids, total, nil
}

// removeAll times one `docker rm -f` of every id. A failing command still
// gives a figure, followed by how many containers it could not remove.
func (b *bench) removeAll(ctx context.Context, ids []string) string {
	_, took, err := b.cli.Run(ctx, append([]string{"rm", "-f"}, ids...)...)
	fmt.Printf("rm -f of %d containers: %s\n", len(ids), benchkit.Ms(took))
	if err == nil {
		return benchkit.Ms(took)
	}
	failed := strings.Count(err.Error(), "Error response from daemon")
	fmt.Printf("rm -f failed: %v\n", err)
	return fmt.Sprintf("%s (FAILED for %d of %d)", benchkit.Ms(took), failed, len(ids))
}

// cleanup removes what is left of the detached containers: `docker rm -f`
// once more, then SIGKILL to the shims of ours that still run (shims
// outlive the daemon).
func (b *bench) cleanup(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	_, _, _ = b.cli.Run(context.WithoutCancel(ctx), append([]string{"rm", "-f"}, ids...)...)
	for pid := range b.shims(ids) {
		fmt.Printf("cleanup: killing leftover shim %d\n", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// shims returns the shim pid of each container of ids that has one. Shims
// are found by their environment; libcontainer's init helpers inherit it,
// and other daemons of the same user have shims too, so only processes
// named dockerd-lite-shim whose container id is in ids count.
func (b *bench) shims(ids []string) map[int]string {
	out := map[int]string{}
	for _, pid := range benchkit.ProcsWithEnv(b.uid, shimEnv) {
		argv := strings.Fields(daemon.Cmdline(pid))
		if len(argv) == 2 && argv[0] == shimArgv0 && slices.Contains(ids, argv[1]) {
			out[pid] = argv[1]
		}
	}
	return out
}

// shimMemory returns the median VmRSS and PSS (KiB) of the shims of ids,
// and how many were found.
func (b *bench) shimMemory(ids []string) (rss, pss, n int) {
	var rs, ps []int
	for pid := range b.shims(ids) {
		r, err := benchkit.KiBField(pid, "VmRSS")
		if err != nil {
			continue
		}
		p, _ := benchkit.PSS(pid)
		rs, ps = append(rs, r), append(ps, p)
	}
	fmt.Printf("shims of %d containers: %d found; VmRSS KiB %v; PSS KiB %v\n", len(ids), len(rs), rs, ps)
	return benchkit.Median(rs), benchkit.Median(ps), len(rs)
}
