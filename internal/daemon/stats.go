package daemon

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// statsInterval is the time between two samples, as in Docker.
const statsInterval = time.Second

// ContainerStats implements api.ContainerBackend. Memory, pids and CPU come
// from the container's cgroup where it has one for them; otherwise every
// number is summed from /proc over the processes of the container's pid
// namespace, so the CPU time of processes that already exited (and were
// not waited for inside the container) is not counted.
func (d *Daemon) ContainerStats(ctx context.Context, name string, opt api.StatsOptions) (<-chan container.StatsResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	out := make(chan container.StatsResponse)
	go func() {
		defer close(out)
		if !c.State.Running() {
			send(ctx, out, container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux"})
			return
		}
		d.sampleLoop(ctx, c, opt, out)
	}()
	return out, nil
}

// sampleLoop sends samples until the container stops, ctx ends or, when
// not streaming, after the first full one.
func (d *Daemon) sampleLoop(ctx context.Context, c *ctr.Container, opt api.StatsOptions, out chan<- container.StatsResponse) {
	var prev container.StatsResponse
	first := true
	if !opt.Stream && !opt.OneShot {
		prev = d.sample(ctx, c)
		if !sleep(ctx, statsInterval) {
			return
		}
	}
	for {
		cur := d.sample(ctx, c)
		cur.PreRead, cur.PreCPUStats = prev.Read, prev.CPUStats
		if cur.PidsStats.Current == 0 && !first {
			return // the container stopped
		}
		if !send(ctx, out, cur) || !opt.Stream {
			return
		}
		prev, first = cur, false
		if !sleep(ctx, statsInterval) {
			return
		}
	}
}

// sample reads one stats sample of c from /proc.
func (d *Daemon) sample(ctx context.Context, c *ctr.Container) container.StatsResponse {
	s := container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux", Read: time.Now().UTC()}
	pids, err := d.runtime.Pids(ctx, c.ID)
	if err != nil || len(pids) == 0 {
		return s
	}
	d.sampleProcesses(&s, pids)
	s.NumProcs = 0 // Windows only
	s.MemoryStats.Limit = uint64(max(memTotal(), 0))
	if total, cpus, err := readSystemCPU(); err == nil {
		s.CPUStats.SystemUsage, s.CPUStats.OnlineCPUs = total, cpus
	}
	_ = readProcFile(pids[0], "net/dev", func(r io.Reader) (err error) {
		s.Networks, err = parseNetDev(r)
		return err
	})
	d.overlayCgroup(ctx, &s, c.ID)
	return s
}

// sampleProcesses sums CPU, memory, pids and block I/O over pids.
func (d *Daemon) sampleProcesses(s *container.StatsResponse, pids []int) {
	pageSize := uint64(os.Getpagesize())
	var user, kernel, rss, rd, wr uint64
	for _, pid := range pids {
		st, err := readProcStat(pid)
		if err != nil {
			continue // exited meanwhile
		}
		s.PidsStats.Current++
		user += st.utime + st.cutime
		kernel += st.stime + st.cstime
		rss += st.rssPages * pageSize
		_ = readProcFile(pid, "io", func(r io.Reader) error {
			pr, pw, err := parseProcIO(r)
			rd, wr = rd+pr, wr+pw
			return err
		})
	}
	cpu := &s.CPUStats.CPUUsage
	cpu.UsageInUsermode, cpu.UsageInKernelmode = user*nsPerTick, kernel*nsPerTick
	cpu.TotalUsage = cpu.UsageInUsermode + cpu.UsageInKernelmode
	s.MemoryStats.Usage = rss
	s.MemoryStats.Stats = map[string]uint64{"rss": rss}
	s.BlkioStats.IoServiceBytesRecursive = []container.BlkioStatEntry{
		{Op: "read", Value: rd}, {Op: "write", Value: wr}, {Op: "total", Value: rd + wr},
	}
}

func readSystemCPU() (uint64, uint32, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseSystemCPU(f)
}

// send delivers v unless ctx ends first.
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleep waits for d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
