package preflight

import (
	"os"
	"os/user"
	"strconv"

	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// identity is the host user the daemon runs for.
type identity struct {
	uid, gid int
	name     string
	root     bool // host root: root mode
	mapping  netns.Mapping
}

// env holds the paths the checks read, so tests can point them elsewhere.
type env struct {
	id             identity
	subUID, subGID string
	tun            string
	cgroupRoot     string // mount point of the cgroup hierarchy
	procCgroup     string // /proc/self/cgroup
	sysctl         string // /proc/sys
}

func hostEnv() env {
	return env{
		id:         currentIdentity(),
		subUID:     netns.SubUIDFile,
		subGID:     netns.SubGIDFile,
		tun:        "/dev/net/tun",
		cgroupRoot: "/sys/fs/cgroup",
		procCgroup: "/proc/self/cgroup",
		sysctl:     "/proc/sys",
	}
}

// currentIdentity finds the host user. Inside the daemon's user namespace
// euid is 0; the host user is then the one Run recorded in ParentEUIDEnv or,
// failing that, the one uid 0 maps to.
func currentIdentity() identity {
	id := identity{uid: os.Geteuid(), gid: os.Getegid()}
	id.mapping, _ = netns.CurrentMapping()
	if id.mapping.InUserNS {
		id.uid, id.gid = hostIDs(id.mapping)
	}
	id.root = id.uid == 0
	id.name = strconv.Itoa(id.uid)
	if u, err := user.LookupId(id.name); err == nil {
		id.name = u.Username
	}
	return id
}

func hostIDs(m netns.Mapping) (int, int) {
	uid, _ := m.HostUID()
	gid, _ := m.HostGID()
	hu, gu := int(uid), int(gid)
	if v, err := strconv.Atoi(os.Getenv(netns.ParentEUIDEnv)); err == nil {
		hu = v
	}
	if v, err := strconv.Atoi(os.Getenv(netns.ParentEGIDEnv)); err == nil {
		gu = v
	}
	return hu, gu
}
