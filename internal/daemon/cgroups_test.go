package daemon

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runtime-spec/specs-go"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
)

func setupWith(controllers ...string) preflight.CgroupSetup {
	s := preflight.CgroupSetup{Version: 1, Parent: "dl", Dirs: map[string]string{}}
	for _, c := range controllers {
		s.Dirs[c] = "/sys/fs/cgroup/" + c + "/dl"
	}
	return s
}

func TestLinuxResources(t *testing.T) {
	pids := int64(8)
	r := container.Resources{Memory: 32 << 20, NanoCPUs: 1.5e9, PidsLimit: &pids, CpusetCpus: "0", CPUShares: 512}
	d := &Daemon{cgroups: setupWith("memory", "pids")}
	got := d.linuxResources(r)
	if got.Memory == nil || *got.Memory.Limit != 32<<20 || got.Memory.Swap != nil {
		t.Errorf("memory without swap accounting: %+v", got.Memory)
	}
	if got.Pids == nil || *got.Pids.Limit != 8 || got.CPU != nil {
		t.Errorf("pids %+v, cpu %+v (cpu not usable)", got.Pids, got.CPU)
	}
	d.cgroups = setupWith("memory", "cpu", "cpuset")
	d.cgroups.Swap = true
	got = d.linuxResources(r)
	if *got.Memory.Swap != 64<<20 {
		t.Errorf("default swap: %d, want twice the memory", *got.Memory.Swap)
	}
	if c := got.CPU; *c.Period != 100000 || *c.Quota != 150000 || *c.Shares != 512 || c.Cpus != "0" {
		t.Errorf("cpu: %+v", c)
	}
	if got.Pids != nil {
		t.Errorf("pids without the controller: %+v", got.Pids)
	}
	unlimited := int64(-5)
	got = d.linuxResources(container.Resources{PidsLimit: &unlimited})
	if got.Memory.Limit != nil || got.Memory.Swap != nil {
		t.Errorf("unset memory: %+v", got.Memory)
	}
	d.cgroups = setupWith("pids")
	if got = d.linuxResources(container.Resources{PidsLimit: &unlimited}); *got.Pids.Limit != -1 {
		t.Errorf("negative pids limit: %d, want -1 (max)", *got.Pids.Limit)
	}
}

func TestResourceWarnings(t *testing.T) {
	pids := int64(8)
	hc := &container.HostConfig{Resources: container.Resources{Memory: 1 << 20, PidsLimit: &pids, CPUShares: 2}}
	d := &Daemon{}
	if w := d.resourceWarnings(hc); len(w) != 3 {
		t.Errorf("no cgroups: %q", w)
	}
	d.cgroups = setupWith("memory", "pids")
	w := d.resourceWarnings(hc)
	if len(w) != 1 || !strings.Contains(w[0], "CPU shares") {
		t.Errorf("memory+pids: %q", w)
	}
}

func TestSetCgroup(t *testing.T) {
	c := &ctr.Container{ID: "abc", HostConfig: &container.HostConfig{}}
	spec := &specs.Spec{Linux: &specs.Linux{}}
	(&Daemon{}).setCgroup(spec, c)
	if spec.Linux.CgroupsPath != "" || spec.Linux.Resources != nil {
		t.Errorf("without cgroups: %+v", spec.Linux)
	}
	d := &Daemon{cgroups: setupWith("memory")}
	d.setCgroup(spec, c)
	if spec.Linux.CgroupsPath != "dl/abc" || spec.Linux.Resources == nil {
		t.Errorf("relative parent: %+v", spec.Linux)
	}
	c.HostConfig.CgroupParent = "/mine"
	d.setCgroup(spec, c)
	if spec.Linux.CgroupsPath != "/mine/abc" {
		t.Errorf("container's cgroup parent: %q", spec.Linux.CgroupsPath)
	}
}
