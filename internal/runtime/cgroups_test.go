package runtime

import (
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestSplitCgroupPath(t *testing.T) {
	for path, want := range map[string][2]string{
		"/dl/abc":    {"/dl", "abc"},
		"dl/sub/abc": {"dl/sub", "abc"},
		"abc":        {".", "abc"},
		"/top/dl/x/": {"/top/dl", "x"},
	} {
		c := &cgroups.Cgroup{Path: path}
		splitCgroupPath(c)
		if c.Parent != want[0] || c.Name != want[1] || c.Path != "" {
			t.Errorf("%q: parent %q name %q path %q, want %v", path, c.Parent, c.Name, c.Path, want)
		}
	}
	c := &cgroups.Cgroup{Name: "id"}
	splitCgroupPath(c)
	if c.Name != "id" || c.Parent != "" {
		t.Errorf("empty path changed the config: %+v", c)
	}
	splitCgroupPath(nil)
}

func TestOOMKillCount(t *testing.T) {
	v1 := "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"
	v2 := "low 0\nhigh 0\nmax 12\noom 3\noom_kill 1\noom_group_kill 0\n"
	if n := oomKillCount(v1); n != 2 {
		t.Errorf("v1: %d", n)
	}
	if n := oomKillCount(v2); n != 1 {
		t.Errorf("v2: %d", n)
	}
	if n := oomKillCount("oom_kill_disable 0\n"); n != 0 {
		t.Errorf("no counter: %d", n)
	}
}

func TestApplyResources(t *testing.T) {
	pids, keep := int64(8), int64(1<<20)
	r := cgroups.Resources{Memory: keep, CpuShares: 512}
	mem, swap, quota := int64(32<<20), int64(64<<20), int64(50000)
	applyResources(&r, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &mem, Swap: &swap},
		CPU:    &specs.LinuxCPU{Quota: &quota, Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: &pids},
	})
	if r.Memory != mem || r.MemorySwap != swap || r.CpuQuota != quota || r.CpusetCpus != "0" || r.CpuShares != 512 {
		t.Errorf("merged: %+v", r)
	}
	if r.PidsLimit == nil || *r.PidsLimit != 8 {
		t.Errorf("pids: %v", r.PidsLimit)
	}
	pids = 9 // the update's value is copied, not aliased
	if *r.PidsLimit != 8 {
		t.Error("pids limit aliases the request")
	}
	applyResources(&r, nil)
}
