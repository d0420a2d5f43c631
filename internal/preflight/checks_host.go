package preflight

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func checkSlirp4netns(ctx context.Context) Finding {
	f := Finding{Name: "slirp4netns"}
	path, err := exec.LookPath("slirp4netns")
	if err != nil {
		f.Status, f.Detail, f.Fix = Warn, "not found: containers get no outbound network", "apt-get install slirp4netns"
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("%s --version failed: %v", path, err), "reinstall slirp4netns"
		return f
	}
	f.Status, f.Detail = OK, fmt.Sprintf("%s (%s)", path, firstLine(out))
	return f
}

// checkTun: slirp4netns opens /dev/net/tun from inside the user namespace,
// where the host owner (root) is unmapped, so the daemon's access comes
// from the "other" bits unless the host user owns the device.
func (h env) checkTun() Finding {
	f := Finding{Name: "/dev/net/tun"}
	var st unix.Stat_t
	if err := unix.Stat(h.tun, &st); err != nil {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("%v: containers get no network", err), "modprobe tun"
		return f
	}
	if !tunUsable(st, h.id) {
		f.Status = Warn
		f.Detail = fmt.Sprintf("mode %04o: not readable and writable by %s, so slirp4netns cannot give containers a network", st.Mode&0o7777, h.id.name)
		f.Fix = fmt.Sprintf("chmod 0666 %s (persist it with a udev rule: KERNEL==\"tun\", MODE=\"0666\")", h.tun)
		return f
	}
	f.Status, f.Detail = OK, fmt.Sprintf("readable and writable by %s", h.id.name)
	return f
}

func tunUsable(st unix.Stat_t, id identity) bool {
	mode := st.Mode
	switch {
	case !id.root && int(st.Uid) == id.uid:
		return mode&0o600 == 0o600
	case !id.root && int(st.Gid) == id.gid:
		return mode&0o060 == 0o060 || mode&0o006 == 0o006
	default:
		return mode&0o006 == 0o006
	}
}

const resourceLimitsWarning = "resource limits unavailable; docker top/stats/pause use /proc and signals"

func (h env) checkCgroup() Finding {
	f := Finding{Name: "cgroups"}
	var st unix.Statfs_t
	if err := unix.Statfs(h.cgroupRoot, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		f.Status, f.Detail = Warn, "cgroup v1: "+resourceLimitsWarning
		f.Fix = "boot with systemd.unified_cgroup_hierarchy=1 and delegate controllers to the user (Delegate=cpu cpuset io memory pids in user@.service)"
		return f
	}
	dir, err := ownCgroup(h.procCgroup)
	if err != nil {
		f.Status, f.Detail = Warn, fmt.Sprintf("cgroup v2, own cgroup unknown (%v): %s", err, resourceLimitsWarning)
		return f
	}
	return h.checkDelegation(filepath.Join(h.cgroupRoot, dir))
}

func (h env) checkDelegation(dir string) Finding {
	f := Finding{Name: "cgroups"}
	fix := "systemctl edit user@.service: [Service] Delegate=cpu cpuset io memory pids; then log in again"
	if unix.Faccessat(unix.AT_FDCWD, dir, unix.W_OK, unix.AT_EACCESS) != nil {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("cgroup v2, %s not delegated to %s: %s", dir, h.id.name, resourceLimitsWarning), fix
		return f
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	have := map[string]bool{}
	for _, c := range strings.Fields(string(b)) {
		have[c] = true
	}
	var missing []string
	for _, c := range []string{"cpu", "memory", "pids"} {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("cgroup v2, %s delegated without %s: some limits unavailable", dir, strings.Join(missing, ",")), fix
		return f
	}
	f.Status, f.Detail = OK, fmt.Sprintf("cgroup v2, %s delegated (%s)", dir, strings.TrimSpace(string(b)))
	return f
}

// ownCgroup returns the v2 path ("0::/path") from /proc/self/cgroup.
func ownCgroup(procCgroup string) (string, error) {
	fh, err := os.Open(procCgroup)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup v2 entry in %s", procCgroup)
}
