package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// cgroupV1Controllers are the hierarchies a test cgroup parent gets.
var cgroupV1Controllers = []string{"memory", "pids", "cpu", "cpuacct", "cpuset", "freezer"}

// CgroupTree is a cgroup subtree the harness made writable for the
// daemon's user.
type CgroupTree struct {
	// Parent is the relative --cgroup-parent to start the daemon with: it
	// resolves under the test process's own cgroup in each hierarchy, which
	// the daemon inherits.
	Parent string
	// Dirs maps each controller to the subtree's directory.
	Dirs map[string]string
}

// ContainerDir is the directory of container id's cgroup for controller.
func (c CgroupTree) ContainerDir(controller, id string) string {
	return filepath.Join(c.Dirs[controller], id)
}

// CgroupParent creates, as root, a cgroup v1 subtree (memory, pids, cpu,
// cpuacct, cpuset, freezer) below the test process's own cgroups, owned by the
// daemon's user, as an administrator would for a rootless daemon; it is
// removed when t ends (register it before starting the daemon, so the
// daemon stops first). t is skipped where that cannot be done: not root,
// a unified (v2) hierarchy, or a kernel that refuses the directories.
func CgroupParent(t testing.TB) CgroupTree {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a cgroup subtree for the daemon's user needs root")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		t.Skip("unified cgroup v2 hierarchy: the daemon would have to start inside a delegated cgroup, which the harness does not arrange")
	}
	own, err := ownCgroupsV1()
	if err != nil {
		t.Skipf("cannot read own cgroups: %v", err)
	}
	tree := CgroupTree{Parent: fmt.Sprintf("dltest-%d", os.Getpid()), Dirs: map[string]string{}}
	t.Cleanup(func() { tree.remove(t) })
	for _, c := range cgroupV1Controllers {
		dir := filepath.Join("/sys/fs/cgroup", c, own[c], tree.Parent)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot create cgroup %s: %v", dir, err)
		}
		tree.Dirs[c] = dir
		if err := inheritCpuset(c, dir); err != nil {
			t.Skipf("cannot set up cgroup %s: %v", dir, err)
		}
		if err := chownTree(dir, run.id.UID, run.id.GID); err != nil {
			t.Skipf("cannot hand cgroup %s to %s: %v", dir, run.id.Name, err)
		}
	}
	return tree
}

// remove deletes the subtree bottom-up (cgroup directories go with rmdir
// only); a cgroup that still has processes is reported.
func (c CgroupTree) remove(t testing.TB) {
	for _, dir := range c.Dirs {
		var dirs []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
				t.Errorf("harness: remove cgroup %s: %v", d, err)
			}
		}
	}
}

// inheritCpuset: a new v1 cpuset cgroup starts with no CPUs and memory
// nodes, so no process could join it; give it its parent's.
func inheritCpuset(controller, dir string) error {
	if controller != "cpuset" {
		return nil
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// ownCgroupsV1 maps each v1 controller to this process's cgroup path.
func ownCgroupsV1() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	own := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, sc.Err()
}
