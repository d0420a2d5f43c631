package oci

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/log"
)

// envInUserNS marks the re-executed test binary; envSingleID forces the
// one-id mapping (the daemon's degraded mode) instead of a subuid range.
const (
	envInUserNS = "DOCKERD_LITE_OCI_TEST_USERNS"
	envSingleID = "OCI_TEST_SINGLE_ID"
)

// TestMain re-executes the test binary in a new user and mount namespace
// where it is uid 0, as the daemon runs: 0 -> the caller's uid plus
// 1..65536 -> a subordinate range (root maps one directly; other users
// through newuidmap/newgidmap and /etc/subuid), or only 0 -> the caller
// when no range is available. If the kernel refuses, tests that need the
// namespace skip.
func TestMain(m *testing.M) {
	if os.Getenv(envInUserNS) != "" {
		if os.Getenv(envInUserNS) == "wait" {
			io.Copy(io.Discard, os.NewFile(3, "sync")) // until the parent mapped us
			// execve before the maps existed dropped our capabilities;
			// exec again now that we are uid 0 to get them back.
			os.Setenv(envInUserNS, "1")
			err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
			fmt.Fprintf(os.Stderr, "re-exec in user namespace: %v\n", err)
			os.Exit(2)
		}
		os.Exit(m.Run())
	}
	code, err := reexecInUserNS()
	if err != nil {
		fmt.Fprintf(os.Stderr, "user namespace unavailable (%v): namespace tests will skip\n", err)
		os.Setenv(envInUserNS, "unavailable")
		os.Exit(m.Run())
	}
	os.Exit(code)
}

func reexecInUserNS() (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS}
	cmd.SysProcAttr = attr
	uid, gid := os.Getuid(), os.Getgid()
	subStart, haveSub := subordinateRange()
	var sync *os.File
	switch {
	case os.Getenv(envSingleID) != "" || !haveSub:
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		cmd.Env = append(os.Environ(), envInUserNS+"=1")
	case uid == 0:
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: subStart, Size: 65536}}
		attr.GidMappings = attr.UidMappings
		attr.GidMappingsEnableSetgroups = true
		cmd.Env = append(os.Environ(), envInUserNS+"=1")
	default:
		r, w, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer r.Close()
		cmd.ExtraFiles, sync = []*os.File{r}, w
		cmd.Env = append(os.Environ(), envInUserNS+"=wait")
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	if sync != nil {
		err := mapWithHelpers(cmd.Process.Pid, uid, gid, subStart)
		sync.Close()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
	}
	if err := cmd.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), nil
		}
		return 0, err
	}
	return 0, nil
}

// mapWithHelpers writes the child's maps with the setuid helpers.
func mapWithHelpers(pid, uid, gid, sub int) error {
	p := strconv.Itoa(pid)
	for _, c := range [][]string{
		{"newuidmap", p, "0", strconv.Itoa(uid), "1", "1", strconv.Itoa(sub), "65536"},
		{"newgidmap", p, "0", strconv.Itoa(gid), "1", "1", strconv.Itoa(sub), "65536"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", c[0], err, out)
		}
	}
	return nil
}

// subordinateRange finds a 65536-id range: root may use any; other users
// need an /etc/subuid entry (same start in /etc/subgid assumed) and the
// newuidmap helper.
func subordinateRange() (int, bool) {
	if os.Getuid() == 0 {
		return 100000, true
	}
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return 0, false
	}
	u, err := user.Current()
	if err != nil {
		return 0, false
	}
	f, err := os.Open("/etc/subuid")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) == 3 && (parts[0] == u.Username || parts[0] == u.Uid) {
			start, err1 := strconv.Atoi(parts[1])
			n, err2 := strconv.Atoi(parts[2])
			if err1 == nil && err2 == nil && n >= 65536 {
				return start, true
			}
		}
	}
	return 0, false
}

// requireUserNS skips tests that need to run as uid 0 of a user namespace.
func requireUserNS(t testing.TB) {
	t.Helper()
	if os.Getenv(envInUserNS) == "unavailable" || os.Getenv(envInUserNS) == "" {
		t.Skip("user namespaces unavailable: the kernel refused CLONE_NEWUSER")
	}
}

// newTestStore opens a store on t.TempDir() roots.
func newTestStore(t testing.TB, opt Opt) *Store {
	t.Helper()
	requireUserNS(t)
	dir := t.TempDir()
	opt.Root, opt.RunRoot = dir+"/root", dir+"/run"
	s, err := New(testCtx(t), opt)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func testCtx(t testing.TB) context.Context {
	return log.WithLogger(t.Context(), log.L)
}
