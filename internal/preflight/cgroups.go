package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// v1Controllers are the cgroup v1 hierarchies the daemon uses, each mounted
// at <cgroup root>/<name> (a symlink where hierarchies are co-mounted).
var v1Controllers = []string{"blkio", "cpu", "cpuacct", "cpuset", "freezer", "memory", "pids"}

// v2Controllers are the cgroup v2 controllers the daemon uses; the freezer
// is built into every v2 cgroup (cgroup.freeze).
var v2Controllers = []string{"cpu", "cpuset", "io", "memory", "pids"}

// CgroupSetup says where the containers' cgroups go and which controllers
// the daemon can use there. The zero value means no cgroups.
type CgroupSetup struct {
	// Version is 1 or 2 (the host's hierarchy).
	Version int
	// Parent is the configured cgroup-parent: absolute paths are taken
	// from each hierarchy's root, relative ones (and "") from the daemon's
	// own cgroup, as libcontainer's cgroupfs driver does.
	Parent string
	// Dirs maps each usable controller to the directory under which the
	// containers' cgroups are created (v2: the same directory for all).
	Dirs map[string]string
	// Missing names the controllers that cannot be used and why.
	Missing []string
	// Swap is set when memory+swap can be limited (v1: swap accounting is
	// on; v2: the memory controller is usable).
	Swap bool
}

// Has reports whether controller is usable ("freezer" on v2 means the
// cgroup's own freezer).
func (s CgroupSetup) Has(controller string) bool {
	_, ok := s.Dirs[controller]
	return ok
}

// Enabled reports whether containers get a cgroup at all.
func (s CgroupSetup) Enabled() bool { return len(s.Dirs) > 0 }

// Controllers lists the usable controllers, sorted.
func (s CgroupSetup) Controllers() []string {
	out := make([]string, 0, len(s.Dirs))
	for c := range s.Dirs {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Cgroups detects what the daemon can do with cgroups under parent (the
// cgroup-parent setting). It must run in the process whose permissions
// count: the daemon calls it again inside its user namespace.
func Cgroups(parent string) CgroupSetup {
	h := hostEnv()
	return detectCgroups(h.cgroupRoot, h.procCgroup, parent, isCgroup2(h.cgroupRoot))
}

func isCgroup2(root string) bool {
	var st unix.Statfs_t
	return unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// detectCgroups works on the files only, so tests can use fake trees.
func detectCgroups(root, procCgroup, parent string, v2 bool) CgroupSetup {
	s := CgroupSetup{Version: 1, Parent: parent, Dirs: map[string]string{}}
	if v2 {
		s.Version = 2
	}
	own, err := ownCgroups(procCgroup)
	if err != nil {
		s.Missing = append(s.Missing, err.Error())
		return s
	}
	if v2 {
		detectV2(&s, root, own[""])
		return s
	}
	for _, c := range v1Controllers {
		mnt := filepath.Join(root, c)
		if _, err := os.Stat(filepath.Join(mnt, "cgroup.procs")); err != nil {
			s.Missing = append(s.Missing, c+" (not mounted)")
			continue
		}
		dir := containersDir(mnt, own[c], parent)
		if err := writableDir(dir); err != nil {
			s.Missing = append(s.Missing, fmt.Sprintf("%s (%v)", c, err))
			continue
		}
		s.Dirs[c] = dir
	}
	_, err = os.Stat(filepath.Join(root, "memory", "memory.memsw.limit_in_bytes"))
	s.Swap = s.Has("memory") && err == nil
	return s
}

// detectV2: the controllers must be available in the containers' parent
// (listed in its cgroup.controllers) and the parent must be writable. A
// relative parent is taken from the parent of the daemon's own cgroup on
// v2 (libcontainer's rule: the own cgroup has processes, so it cannot
// enable controllers for children).
func detectV2(s *CgroupSetup, root, own string) {
	dir := containersDir(root, filepath.Dir(own), s.Parent)
	if err := writableDir(dir); err != nil {
		s.Missing = append(s.Missing, fmt.Sprintf("all (%v)", err))
		return
	}
	b, _ := os.ReadFile(filepath.Join(existingAncestor(dir), "cgroup.controllers"))
	have := strings.Fields(string(b))
	for _, c := range v2Controllers {
		if slices.Contains(have, c) {
			s.Dirs[c] = dir
		} else {
			s.Missing = append(s.Missing, c+" (not delegated)")
		}
	}
	s.Dirs["freezer"] = dir
	s.Swap = s.Has("memory")
}

// containersDir is where the containers' cgroups go in one hierarchy.
func containersDir(mnt, own, parent string) string {
	if filepath.IsAbs(parent) {
		return filepath.Join(mnt, parent)
	}
	return filepath.Join(mnt, own, parent)
}

// writableDir reports whether the daemon can create cgroups in dir: dir,
// or the nearest existing ancestor, must be writable.
func writableDir(dir string) error {
	d := existingAncestor(dir)
	if unix.Faccessat(unix.AT_FDCWD, d, unix.W_OK, unix.AT_EACCESS) != nil {
		return fmt.Errorf("%s not writable", d)
	}
	return nil
}

func existingAncestor(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" || dir == "." {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// ownCgroups maps each controller to the process's cgroup path from
// /proc/self/cgroup; the v2 path is under "".
func ownCgroups(procCgroup string) (map[string]string, error) {
	fh, err := os.Open(procCgroup)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	own := map[string]string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	if len(own) == 0 {
		return nil, errors.New("no cgroup entries in " + procCgroup)
	}
	return own, sc.Err()
}
