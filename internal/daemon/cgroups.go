package daemon

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runtime-spec/specs-go"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// detectCgroups finds, inside the daemon's user namespace (where the
// permissions that matter apply), what cgroups the containers can have,
// and replaces the parent's cgroup finding with that view.
func (d *Daemon) detectCgroups() {
	d.cgroups = preflight.Cgroups(d.cfg.CgroupParent)
	f := preflight.CgroupFinding(d.cgroups)
	for i := range d.findings {
		if d.findings[i].Name == f.Name {
			d.findings[i] = f
			return
		}
	}
	d.findings = append(d.findings, f)
}

// setCgroup gives the spec the container's cgroup and the limits the
// usable controllers can enforce. Without any usable controller the spec
// is left as it is (libcontainer then skips what it may not write).
func (d *Daemon) setCgroup(spec *specs.Spec, c *ctr.Container) {
	if !d.cgroups.Enabled() || spec.Linux == nil {
		return
	}
	parent := d.cgroups.Parent
	if c.HostConfig.CgroupParent != "" {
		parent = c.HostConfig.CgroupParent
	}
	spec.Linux.CgroupsPath = filepath.Join(parent, c.ID)
	spec.Linux.Resources = d.linuxResources(c.HostConfig.Resources)
}

// linuxResources converts the Docker limits that a usable controller can
// enforce; the others are left out (the warnings say so).
func (d *Daemon) linuxResources(r container.Resources) *specs.LinuxResources {
	cg := d.cgroups
	out := &specs.LinuxResources{}
	if cg.Has("memory") {
		out.Memory = memoryResources(r, cg.Swap)
	}
	if cg.Has("cpu") || cg.Has("cpuset") {
		out.CPU = cpuResources(r, cg.Has("cpu"), cg.Has("cpuset"))
	}
	if cg.Has("pids") && r.PidsLimit != nil && *r.PidsLimit != 0 {
		limit := max(*r.PidsLimit, -1) // Docker: negative means unlimited
		out.Pids = &specs.LinuxPids{Limit: &limit}
	}
	if (cg.Has("blkio") || cg.Has("io")) && r.BlkioWeight > 0 {
		w := r.BlkioWeight
		out.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return out
}

// memoryResources: as in Docker, a memory limit without a swap limit
// allows as much swap as memory (swap = twice the memory).
func memoryResources(r container.Resources, swap bool) *specs.LinuxMemory {
	m := &specs.LinuxMemory{}
	if r.Memory > 0 {
		m.Limit = &r.Memory
	}
	if r.MemoryReservation > 0 {
		m.Reservation = &r.MemoryReservation
	}
	if swap {
		s := r.MemorySwap
		if s == 0 && r.Memory > 0 {
			s = 2 * r.Memory
		}
		if s != 0 {
			m.Swap = &s
		}
	}
	return m
}

// cpuResources converts shares, quota/period (NanoCPUs as a quota over
// Docker's 100ms period) and the cpuset.
func cpuResources(r container.Resources, cpu, cpuset bool) *specs.LinuxCPU {
	c := &specs.LinuxCPU{}
	if cpu {
		if r.CPUShares > 0 {
			s := uint64(r.CPUShares)
			c.Shares = &s
		}
		period, quota := uint64(r.CPUPeriod), r.CPUQuota
		if r.NanoCPUs > 0 {
			period, quota = 100000, r.NanoCPUs*100000/1e9
		}
		if period > 0 {
			c.Period = &period
		}
		if quota != 0 {
			c.Quota = &quota
		}
	}
	if cpuset {
		c.Cpus, c.Mems = r.CpusetCpus, r.CpusetMems
	}
	return c
}

// resourceWarnings lists, in Docker's words, the limits that no usable
// controller can enforce.
func (d *Daemon) resourceWarnings(hc *container.HostConfig) []string {
	cg, r := d.cgroups, hc.Resources
	var w []string
	add := func(set bool, ok bool, msg string) {
		if set && !ok {
			w = append(w, msg)
		}
	}
	add(r.Memory > 0, cg.Has("memory"), "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
	add(r.MemorySwap > 0, cg.Swap, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
	add(r.CPUShares > 0, cg.Has("cpu"), "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
	add(r.NanoCPUs > 0 || r.CPUQuota > 0, cg.Has("cpu"), "Your kernel does not support CPU CFS scheduler. CPU quota discarded.")
	add(r.CpusetCpus != "" || r.CpusetMems != "", cg.Has("cpuset"), "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
	add(r.PidsLimit != nil && *r.PidsLimit > 0, cg.Has("pids"), "Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.")
	add(r.BlkioWeight > 0, cg.Has("blkio") || cg.Has("io"), "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
	return w
}

// applyUpdate applies updated limits to a running container's cgroup; a
// container without a cgroup keeps them recorded for its next start.
func (d *Daemon) applyUpdate(ctx context.Context, c *ctr.Container, r container.Resources) error {
	if !c.State.Running() || !d.cgroups.Enabled() {
		return nil
	}
	err := d.runtime.UpdateResources(ctx, c.ID, d.linuxResources(r))
	if errors.Is(err, runtime.ErrNoCgroup) {
		return nil
	}
	return err
}

// freeze pauses the container with the freezer cgroup, or with SIGSTOP to
// every process when it has none.
func (d *Daemon) freeze(ctx context.Context, id string) error {
	if err := d.runtime.Freeze(ctx, id); !errors.Is(err, runtime.ErrNoCgroup) {
		return err
	}
	return d.stopProcesses(ctx, id)
}

// thaw undoes freeze.
func (d *Daemon) thaw(ctx context.Context, id string) error {
	if err := d.runtime.Thaw(ctx, id); !errors.Is(err, runtime.ErrNoCgroup) {
		return err
	}
	return d.signalAll(ctx, id, sigCont)
}
