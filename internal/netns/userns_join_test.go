package netns

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// startHolder starts a process in a new user and mount namespace, as a
// container shim of an earlier run would hold them.
func startHolder(t *testing.T) *exec.Cmd {
	t.Helper()
	skipIfNoUserNS(t)
	root := os.Geteuid() == 0
	host := os.Geteuid()
	if root {
		host = 65534 // never hand host root to the namespace
	}
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: host, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: host, Size: 1}},
		GidMappingsEnableSetgroups: root,
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create a user namespace: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func TestRunJoinsEarlierNamespaces(t *testing.T) {
	holder := startHolder(t)
	pid := holder.Process.Pid
	res := runTargetWith(t, func(ctx context.Context, opt Opt) error {
		if err := prepare(opt); err != nil {
			return err
		}
		opt.Join = []JoinTarget{nsOf(os.Getpid()), nsOf(pid)} // our own namespace is skipped
		joined, err := runJoined(ctx, opt)
		if !joined {
			return errors.New("runJoined did not join")
		}
		return err
	}, nil)
	wantExit(t, res.err, 0)
	checkCommon(t, res)
	for ns, got := range map[string]string{"user": res.report.UserNS, "mnt": res.report.MntNS} {
		want, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + ns)
		if got != want {
			t.Errorf("target %s namespace = %q, want the holder's %q", ns, got, want)
		}
	}
}

func TestOpenJoinRefusesOwnNamespace(t *testing.T) {
	if files := openJoin(t.Context(), []JoinTarget{nsOf(os.Getpid()), nsOf(1 << 30)}); files != nil {
		closeAll(files)
		t.Fatal("openJoin accepted this process's own user namespace or a missing pid")
	}
}

func nsOf(pid int) JoinTarget {
	dir := "/proc/" + strconv.Itoa(pid) + "/ns/"
	return JoinTarget{User: dir + "user", Mount: dir + "mnt"}
}
