package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeV1 builds a cgroup v1 tree with the given hierarchies mounted.
func fakeV1(t *testing.T, controllers ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, c := range controllers {
		if err := os.MkdirAll(filepath.Join(root, c, "own"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, c, "cgroup.procs"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestOwnCgroups(t *testing.T) {
	got, err := ownCgroups(write(t, "12:pids:/user.slice\n3:cpu,cpuacct:/x\n0::/user.slice/session-1.scope\n"))
	if err != nil || got[""] != "/user.slice/session-1.scope" || got["pids"] != "/user.slice" || got["cpuacct"] != "/x" {
		t.Errorf("ownCgroups = %v, %v", got, err)
	}
	if _, err := ownCgroups(write(t, "")); err == nil {
		t.Error("empty file accepted")
	}
}

func TestDetectCgroupsV1(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write any directory: the permission cases need an unprivileged user")
	}
	root := fakeV1(t, "memory", "pids", "cpu", "freezer")
	proc := write(t, "4:memory:/own\n8:pids:/own\n1:cpu:/\n6:freezer:/own\n0::/\n")
	if err := os.Chmod(filepath.Join(root, "cpu"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "cpu"), 0o755) })
	s := detectCgroups(root, proc, "dl", false)
	if s.Version != 1 || !s.Has("memory") || !s.Has("pids") || !s.Has("freezer") || s.Has("cpu") || s.Has("blkio") {
		t.Fatalf("relative parent: %+v", s)
	}
	if s.Dirs["memory"] != filepath.Join(root, "memory", "own", "dl") {
		t.Errorf("memory dir %s", s.Dirs["memory"])
	}
	if f := CgroupFinding(s); f.Status != OK || !strings.Contains(f.Detail, "freezer,memory,pids") || !strings.Contains(f.Detail, "cpu (") {
		t.Errorf("finding %v", f)
	}
	abs := detectCgroups(root, proc, "/top/dl", false)
	if abs.Dirs["pids"] != filepath.Join(root, "pids", "top", "dl") {
		t.Errorf("absolute parent: %+v", abs)
	}
	if f := CgroupFinding(detectCgroups(fakeV1(t), proc, "", false)); f.Status != Warn || !strings.Contains(f.Detail, resourceLimitsWarning) || f.Fix != fixCgroupV1 {
		t.Errorf("no hierarchies: %v", f)
	}
}

func TestDetectCgroupsV2(t *testing.T) {
	root := t.TempDir()
	// Relative parents start at the parent of the own cgroup on v2.
	own := filepath.Join(root, "user.slice")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "cgroup.controllers"), []byte("cpu memory pids io\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := write(t, "0::/user.slice/u\n")
	s := detectCgroups(root, proc, "", true)
	if s.Version != 2 || !s.Has("memory") || !s.Has("pids") || !s.Has("freezer") || s.Has("cpuset") || s.Dirs["cpu"] != own {
		t.Fatalf("delegated: %+v", s)
	}
	if f := CgroupFinding(s); f.Status != OK || !strings.Contains(f.Detail, "cpuset (not delegated)") {
		t.Errorf("finding %v", f)
	}
	if err := os.WriteFile(filepath.Join(own, "cgroup.controllers"), []byte("pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f := CgroupFinding(detectCgroups(root, proc, "", true)); f.Status != Warn || f.Fix != fixCgroupV2 || !strings.Contains(f.Detail, "memory (not delegated)") {
		t.Errorf("without memory: %v", f)
	}
}

func TestCheckCgroupOnTempDir(t *testing.T) {
	// t.TempDir() is not a cgroup2 mount, which reads as v1 without hierarchies.
	f := env{id: identity{name: "alice"}, cgroupRoot: t.TempDir(), procCgroup: write(t, "0::/\n")}.checkCgroup("")
	if f.Status != Warn || !strings.Contains(f.Detail, resourceLimitsWarning) {
		t.Errorf("got %v", f)
	}
}
