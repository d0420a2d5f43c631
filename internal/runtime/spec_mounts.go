package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// defaultShmSize is Docker's /dev/shm size.
const defaultShmSize = 64 << 20

// defaultMounts is Docker's minimal filesystem: /proc, a tmpfs /dev
// (libcontainer adds null, zero, full, random, urandom, tty and binds them
// from the host in a user namespace), /dev/pts, /dev/shm, /dev/mqueue, /sys
// and, on cgroup v2, /sys/fs/cgroup.
func defaultMounts(opt SpecOpt) []specs.Mount {
	ms := []specs.Mount{procMount(opt), {
		Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"},
	}, {
		Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: devptsOptions(),
	}, sysMount(opt)}
	ms = append(ms, ipcMounts(opt)...)
	if cgroup2() {
		ms = append(ms, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", readOnly(opt)}})
	}
	if opt.Init {
		ms = append(ms, bindMount(opt.InitPath, InitPathInContainer, true))
	}
	return ms
}

func readOnly(opt SpecOpt) string {
	if opt.Privileged {
		return "rw"
	}
	return "ro"
}

// procMount mounts a new proc; sharing the daemon's pid namespace means
// proc cannot be mounted from the user namespace, so the daemon's is bound.
func procMount(opt SpecOpt) specs.Mount {
	if opt.Namespaces.PID == NamespaceHost {
		return specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
	}
	return specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}}
}

// sysMount is sysfs, or a read-only bind of /sys when the network
// namespace is the host's (sysfs cannot be mounted for it from a userns).
func sysMount(opt SpecOpt) specs.Mount {
	if opt.Namespaces.Net == NamespaceHost {
		return specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
	}
	return specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", readOnly(opt)}}
}

// ipcMounts are /dev/mqueue and /dev/shm. With --ipc host they are the
// host's, bound where it has them: the host IPC namespace's mqueue cannot be
// mounted from the user namespace, and Docker shares the host's /dev/shm.
func ipcMounts(opt SpecOpt) []specs.Mount {
	if opt.Namespaces.IPC != NamespaceHost {
		return []specs.Mount{{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
			Options: []string{"nosuid", "noexec", "nodev"}}, shmMount(opt)}
	}
	var ms []specs.Mount
	for _, dir := range []string{"/dev/mqueue", "/dev/shm"} {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			ms = append(ms, specs.Mount{Destination: dir, Type: "bind", Source: dir, Options: []string{"rbind", "nosuid", "noexec", "nodev"}})
		}
	}
	return ms
}

func shmMount(opt SpecOpt) specs.Mount {
	size := opt.ShmSize
	if size <= 0 {
		size = defaultShmSize
	}
	return specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
		Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(size, 10)}}
}

// devptsOptions are Docker's; gid=5 (tty) only where gid 5 is mapped in
// our user namespace, which a single-id mapping does not have.
func devptsOptions() []string {
	opts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if idMapped("/proc/self/gid_map", 5) {
		opts = append(opts, "gid=5")
	}
	return opts
}

// idMapped reports whether id is inside a range of a uid_map/gid_map file.
func idMapped(mapFile string, id uint64) bool {
	f, err := os.Open(mapFile)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var inside, outside, n uint64
		if _, err := fmt.Sscan(sc.Text(), &inside, &outside, &n); err == nil && id >= inside && id-inside < n {
			return true
		}
	}
	return false
}

func bindMount(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// withUserMounts adds the /etc files and the caller's mounts; a mount at a
// destination replaces any earlier one there (Docker lets -v /dev/shm win).
func withUserMounts(ms []specs.Mount, opt SpecOpt) []specs.Mount {
	var extra []specs.Mount
	for _, f := range [][2]string{{opt.HostsPath, "/etc/hosts"}, {opt.HostnamePath, "/etc/hostname"}, {opt.ResolvConfPath, "/etc/resolv.conf"}} {
		if f[0] != "" {
			extra = append(extra, bindMount(f[0], f[1], false))
		}
	}
	extra = append(extra, opt.Mounts...)
	for _, m := range extra {
		dst := path.Clean(m.Destination)
		kept := ms[:0]
		for _, old := range ms {
			if path.Clean(old.Destination) != dst && !strings.HasPrefix(old.Destination, dst+"/") {
				kept = append(kept, old)
			}
		}
		ms = append(kept, m)
	}
	return ms
}
