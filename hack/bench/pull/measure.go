package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// sample is one pull: its duration and the daemon's memory.
type sample struct {
	took     time.Duration
	messages int
	hwm      map[int]int    // pid -> VmHWM KiB after the pull
	names    map[int]string // pid -> comm
	peakSum  int            // largest summed VmRSS seen while polling
	user     time.Duration  // CPU time the daemon's tree used during the pull
	sys      time.Duration
}

func (s sample) maxHWM() int {
	m := 0
	for _, kb := range s.hwm {
		m = max(m, kb)
	}
	return m
}

func (s sample) print(i int, size int64) {
	var parts []string
	for _, pid := range slices.Sorted(maps.Keys(s.hwm)) {
		parts = append(parts, fmt.Sprintf("%s(%d) %s", s.names[pid], pid, benchkit.MiB(s.hwm[pid])))
	}
	fmt.Printf("run %d: pull %.3f s, %.0f MB/s, %d progress messages; daemon CPU user %.2f s + sys %.2f s; VmHWM %s; polled tree peak %s\n",
		i, s.took.Seconds(), float64(size)/1e6/s.took.Seconds(), s.messages, s.user.Seconds(), s.sys.Seconds(),
		strings.Join(parts, ", "), benchkit.MiB(s.peakSum))
}

// once starts a daemon on fresh directories, pulls ref and stops it.
// A non-empty keep names a file that receives the daemon log.
func once(ctx context.Context, cfg daemon.Config, ref, keep string) (s sample, err error) {
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
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		err = errors.Join(err, d.Stop(sctx))
		if keep != "" {
			err = errors.Join(err, os.WriteFile(keep, []byte(d.Log()), 0o644))
		}
	}()
	c, err := client.New(client.WithHost(d.Host()), client.WithAPIVersionNegotiation())
	if err != nil {
		return s, fmt.Errorf("create client: %w", err)
	}
	defer c.Close()
	if _, err := c.Ping(rctx, client.PingOptions{}); err != nil {
		return s, fmt.Errorf("ping: %w", err)
	}
	return pull(ctx, c, d, ref)
}

// pull flushes dirty pages, resets the peak RSS of the daemon's processes, pulls ref while a
// goroutine polls their VmRSS, and reads VmHWM afterwards.
func pull(ctx context.Context, c *client.Client, d *daemon.Daemon, ref string) (s sample, err error) {
	// Write back the previous run's data first, so that its dirty pages do
	// not throttle this pull.
	syscall.Sync()
	pids := daemon.Tree(d.PID())
	for _, p := range pids {
		if err := benchkit.ResetPeak(p); err != nil {
			return s, fmt.Errorf("reset peak RSS of %d: %w", p, err)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	peak := pollRSS(pctx, pids)
	u0, s0 := benchkit.TreeCPU(pids)
	start := time.Now()
	s.messages, err = drain(pctx, c, ref)
	s.took = time.Since(start)
	u1, s1 := benchkit.TreeCPU(pids)
	s.user, s.sys = u1-u0, s1-s0
	cancel()
	s.peakSum = <-peak
	if err != nil {
		return s, err
	}
	s.hwm, s.names = map[int]int{}, map[int]string{}
	for _, p := range pids {
		if kb, err := benchkit.KiBField(p, "VmHWM"); err == nil {
			s.hwm[p], s.names[p] = kb, benchkit.Comm(p)
		}
	}
	return s, nil
}

// drain pulls ref and reads the whole progress stream; an error message in
// the stream is an error.
func drain(ctx context.Context, c *client.Client, ref string) (int, error) {
	resp, err := c.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return 0, fmt.Errorf("pull %s: %w", ref, err)
	}
	defer resp.Close()
	n := 0
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return n, fmt.Errorf("pull %s: read progress: %w", ref, err)
		}
		if msg.Error != nil {
			return n, fmt.Errorf("pull %s: %s", ref, msg.Error.Message)
		}
		n++
	}
	return n, nil
}

// pollRSS samples the summed VmRSS of pids every 10 ms until ctx ends, then
// sends the largest sum.
func pollRSS(ctx context.Context, pids []int) <-chan int {
	out := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			sum := 0
			for _, p := range pids {
				if kb, err := benchkit.KiBField(p, "VmRSS"); err == nil {
					sum += kb
				}
			}
			peak = max(peak, sum)
			select {
			case <-ctx.Done():
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
