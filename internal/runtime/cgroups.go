package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// ErrNoCgroup means the container has no cgroup for the operation (the
// hierarchy was not writable when it started); callers fall back to /proc
// and signals.
var ErrNoCgroup = errors.New("container has no cgroup for this")

// CgroupStats is one sample of a container's cgroup counters. A nil part
// means its controller is not available to the container.
type CgroupStats struct {
	CPU    *CgroupCPU
	Memory *CgroupMemory
	Pids   *CgroupPids
}

// CgroupCPU is CPU time in nanoseconds and CFS throttling counters.
type CgroupCPU struct {
	Total, User, Kernel                                  uint64
	PerCPU                                               []uint64
	ThrottlingPeriods, ThrottledPeriods, ThrottledTimeNs uint64
}

// CgroupMemory is memory use in bytes; Stats holds the cgroup's
// memory.stat counters by their file names.
type CgroupMemory struct {
	Usage, MaxUsage, Limit, Failcnt uint64
	Stats                           map[string]uint64
}

// CgroupPids is the number of tasks and the limit (0: unlimited).
type CgroupPids struct {
	Current, Limit uint64
}

// splitCgroupPath turns the spec's cgroups path into libcontainer's Parent
// and Name. With an explicit Path libcontainer would fail on every
// hierarchy it may not write; with Parent/Name it skips those in rootless
// mode, and the daemon only sets limits for the controllers it can write.
func splitCgroupPath(c *cgroups.Cgroup) {
	if c == nil || c.Path == "" {
		return
	}
	c.Parent, c.Name = filepath.Split(filepath.Clean(c.Path))
	c.Parent, c.Path = filepath.Clean(c.Parent), ""
}

// load opens the container's libcontainer state from the daemon's side.
func (r *Runtime) load(id string) (*libcontainer.Container, error) {
	if err := r.exists(id); err != nil {
		return nil, err
	}
	c, err := libcontainer.Load(filepath.Join(r.runDir(id), "lc"), id)
	if err != nil {
		return nil, errShimGone
	}
	return c, nil
}

// cgroupPaths are the container's cgroup directories by controller (v2:
// one directory under "").
func cgroupPaths(c *libcontainer.Container) map[string]string {
	st, err := c.State()
	if err != nil {
		return nil
	}
	return st.CgroupPaths
}

// hasController reports whether the container has a cgroup for name. On
// v2 libcontainer reports the path even when it could not create the
// cgroup (rootless), so the directory must exist and offer the controller.
func hasController(paths map[string]string, name string) bool {
	if !cgroups.IsCgroup2UnifiedMode() {
		return paths[name] != ""
	}
	dir := paths[""]
	if dir == "" {
		return false
	}
	if name == "freezer" {
		_, err := os.Stat(filepath.Join(dir, "cgroup.freeze"))
		return err == nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	return err == nil && slices.Contains(strings.Fields(string(b)), name)
}

// hasCgroup reports whether the container has a cgroup at all.
func hasCgroup(paths map[string]string) bool {
	if !cgroups.IsCgroup2UnifiedMode() {
		return len(paths) > 0
	}
	_, err := os.Stat(filepath.Join(paths[""], "cgroup.procs"))
	return paths[""] != "" && err == nil
}

// CgroupStats reads the container's cgroup counters. ErrNoCgroup: it has
// no cgroup at all; a stopped container gives a Conflict error.
func (r *Runtime) CgroupStats(ctx context.Context, id string) (CgroupStats, error) {
	c, err := r.load(id)
	if err != nil {
		return CgroupStats{}, err
	}
	paths := cgroupPaths(c)
	if !hasCgroup(paths) {
		return CgroupStats{}, ErrNoCgroup
	}
	st, err := c.Stats()
	if err != nil || st.CgroupStats == nil {
		return CgroupStats{}, fmt.Errorf("read cgroup stats of %s: %w", id, err)
	}
	return convertStats(st.CgroupStats, paths), nil
}

func convertStats(s *cgroups.Stats, paths map[string]string) CgroupStats {
	var out CgroupStats
	cpuCtl := "cpuacct"
	if cgroups.IsCgroup2UnifiedMode() {
		cpuCtl = "cpu"
	}
	if hasController(paths, cpuCtl) {
		u, t := s.CpuStats.CpuUsage, s.CpuStats.ThrottlingData
		out.CPU = &CgroupCPU{Total: u.TotalUsage, User: u.UsageInUsermode, Kernel: u.UsageInKernelmode, PerCPU: u.PercpuUsage,
			ThrottlingPeriods: t.Periods, ThrottledPeriods: t.ThrottledPeriods, ThrottledTimeNs: t.ThrottledTime}
	}
	if hasController(paths, "memory") {
		m := s.MemoryStats
		out.Memory = &CgroupMemory{Usage: m.Usage.Usage, MaxUsage: m.Usage.MaxUsage, Limit: m.Usage.Limit, Failcnt: m.Usage.Failcnt, Stats: m.Stats}
	}
	if hasController(paths, "pids") {
		out.Pids = &CgroupPids{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit}
	}
	return out
}

// Freeze stops every process of the container with the cgroup freezer.
// ErrNoCgroup: the container has no freezer cgroup.
func (r *Runtime) Freeze(ctx context.Context, id string) error {
	return r.freezer(id, (*libcontainer.Container).Pause)
}

// Thaw continues a container stopped by Freeze. ErrNoCgroup: the container
// has no freezer cgroup.
func (r *Runtime) Thaw(ctx context.Context, id string) error {
	return r.freezer(id, (*libcontainer.Container).Resume)
}

func (r *Runtime) freezer(id string, op func(*libcontainer.Container) error) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	if !hasController(cgroupPaths(c), "freezer") {
		return ErrNoCgroup
	}
	if err := op(c); err != nil {
		if errors.Is(err, libcontainer.ErrNotRunning) || errors.Is(err, libcontainer.ErrNotPaused) {
			return errdefs.Conflict(err)
		}
		return fmt.Errorf("freezer of %s: %w", id, err)
	}
	return nil
}

// UpdateResources applies the limits set in res (nil fields keep their
// value) to the running container's cgroup.
func (r *Runtime) UpdateResources(ctx context.Context, id string, res *specs.LinuxResources) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	if !hasCgroup(cgroupPaths(c)) {
		return ErrNoCgroup
	}
	cfg := c.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil {
		return ErrNoCgroup
	}
	merged := *cfg.Cgroups.Resources
	applyResources(&merged, res)
	cg := *cfg.Cgroups
	cg.Resources = &merged
	cfg.Cgroups = &cg
	if err := c.Set(cfg); err != nil {
		if errors.Is(err, libcontainer.ErrNotRunning) {
			return errdefs.Conflict(err)
		}
		return fmt.Errorf("update resources of %s: %w", id, err)
	}
	return nil
}

// applyResources copies the limits res sets into r (libcontainer's values
// are v1's; its v2 manager converts them).
func applyResources(r *cgroups.Resources, res *specs.LinuxResources) {
	if res == nil {
		return
	}
	if m := res.Memory; m != nil {
		setPtr(&r.Memory, m.Limit)
		setPtr(&r.MemoryReservation, m.Reservation)
		setPtr(&r.MemorySwap, m.Swap)
	}
	if c := res.CPU; c != nil {
		setPtr(&r.CpuShares, c.Shares)
		setPtr(&r.CpuQuota, c.Quota)
		setPtr(&r.CpuPeriod, c.Period)
		if c.Cpus != "" {
			r.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			r.CpusetMems = c.Mems
		}
	}
	if res.Pids != nil && res.Pids.Limit != nil {
		v := *res.Pids.Limit
		r.PidsLimit = &v
	}
	if res.BlockIO != nil && res.BlockIO.Weight != nil {
		r.BlkioWeight = *res.BlockIO.Weight
	}
}

func setPtr[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// oomKilled reports whether the kernel's OOM killer killed a process of
// the container's memory cgroup (v1: memory.oom_control's oom_kill; v2:
// memory.events's oom_kill). It must run before the cgroup is destroyed.
func oomKilled(c *libcontainer.Container) bool {
	paths := cgroupPaths(c)
	file, dir := "memory.oom_control", paths["memory"]
	if cgroups.IsCgroup2UnifiedMode() {
		file, dir = "memory.events", paths[""]
	}
	if dir == "" {
		return false
	}
	b, err := cgroups.ReadFile(dir, file)
	if err != nil {
		return false
	}
	return oomKillCount(b) > 0
}

// oomKillCount parses the "oom_kill N" line of oom_control or events.
func oomKillCount(content string) uint64 {
	for line := range strings.Lines(content) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			var n uint64
			_, _ = fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}

// NotifyOOM returns a channel that receives a value each time the kernel's
// OOM killer acts in the container's memory cgroup and is closed when the
// cgroup is removed; the caller must drain it. ErrNoCgroup: the container
// has no memory cgroup.
func (r *Runtime) NotifyOOM(ctx context.Context, id string) (<-chan struct{}, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	if !hasController(cgroupPaths(c), "memory") {
		return nil, ErrNoCgroup
	}
	ch, err := c.NotifyOOM()
	if err != nil {
		return nil, fmt.Errorf("watch oom of %s: %w", id, err)
	}
	return ch, nil
}
