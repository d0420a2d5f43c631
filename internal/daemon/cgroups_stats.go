package daemon

import (
	"context"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// overlayCgroup replaces the /proc sums in s with the container's cgroup
// counters where it has a cgroup for them: those also count processes
// that already exited, and carry the limits.
func (d *Daemon) overlayCgroup(ctx context.Context, s *container.StatsResponse, id string) {
	if !d.cgroups.Enabled() {
		return
	}
	cs, err := d.runtime.CgroupStats(ctx, id)
	if err != nil {
		return
	}
	if m := cs.Memory; m != nil {
		s.MemoryStats = container.MemoryStats{Usage: m.Usage, MaxUsage: m.MaxUsage, Failcnt: m.Failcnt, Stats: m.Stats,
			Limit: min(m.Limit, uint64(max(memTotal(), 0)))}
		if m.Limit == 0 { // v2 reports "max" as 0
			s.MemoryStats.Limit = uint64(max(memTotal(), 0))
		}
	}
	if p := cs.Pids; p != nil {
		s.PidsStats = container.PidsStats{Current: p.Current, Limit: p.Limit}
	}
	if c := cs.CPU; c != nil {
		overlayCPU(&s.CPUStats, c)
	}
}

func overlayCPU(s *container.CPUStats, c *runtime.CgroupCPU) {
	s.CPUUsage = container.CPUUsage{TotalUsage: c.Total, UsageInUsermode: c.User, UsageInKernelmode: c.Kernel, PercpuUsage: c.PerCPU}
	s.ThrottlingData = container.ThrottlingData{Periods: c.ThrottlingPeriods, ThrottledPeriods: c.ThrottledPeriods, ThrottledTime: c.ThrottledTimeNs}
}
