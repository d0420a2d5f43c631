package preflight

import (
	"fmt"
	"strings"
)

const resourceLimitsWarning = "resource limits unavailable; docker top/stats/pause use /proc and signals"

// Fixes for a host without usable cgroups.
const (
	fixCgroupV1 = "as root: mkdir /sys/fs/cgroup/{memory,pids,cpu,cpuacct,freezer}/dockerd-lite-USER, chown -R USER those " +
		"directories, then start the daemon with --cgroup-parent=/dockerd-lite-USER (or boot with systemd.unified_cgroup_hierarchy=1 and delegate)"
	fixCgroupV2 = "systemctl edit user@.service: [Service] Delegate=cpu cpuset io memory pids; then log in again"
)

func (h env) checkCgroup(parent string) Finding {
	return CgroupFinding(detectCgroups(h.cgroupRoot, h.procCgroup, parent, isCgroup2(h.cgroupRoot)))
}

// CgroupFinding describes s as a preflight finding: OK when memory and pids
// limits can be applied, WARN otherwise (with what is missing and how to
// fix it).
func CgroupFinding(s CgroupSetup) Finding {
	f := Finding{Name: "cgroups", Status: OK}
	where := "the daemon's cgroup"
	if s.Parent != "" {
		where = "cgroup-parent " + s.Parent
	}
	fix := fixCgroupV1
	if s.Version == 2 {
		fix = fixCgroupV2
	}
	switch {
	case !s.Enabled():
		f.Status, f.Fix = Warn, fix
		f.Detail = fmt.Sprintf("cgroup v%d, nothing writable under %s (%s): %s", s.Version, where, strings.Join(s.Missing, ", "), resourceLimitsWarning)
	case !s.Has("memory") || !s.Has("pids"):
		f.Status, f.Fix = Warn, fix
		f.Detail = fmt.Sprintf("cgroup v%d, %s usable under %s; not: %s", s.Version, strings.Join(s.Controllers(), ","), where, strings.Join(s.Missing, ", "))
	default:
		f.Detail = fmt.Sprintf("cgroup v%d, %s usable under %s", s.Version, strings.Join(s.Controllers(), ","), where)
		if len(s.Missing) > 0 {
			f.Detail += "; not: " + strings.Join(s.Missing, ", ")
		}
	}
	return f
}
