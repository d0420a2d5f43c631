package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Test stages: the outer process re-executes the test binary in a new user
// and mount namespace, as the daemon runs, so the tests behave the same as
// root and as an unprivileged user.
const (
	envTestStage = "_DLTEST_STAGE"
	stageWait    = "wait" // in the new userns, waiting for newuidmap
	stageRun     = "run"  // mapped: run the tests
)

// usernsSkip is why namespace tests cannot run ("" when they can).
var usernsSkip = "not in the test user namespace"

func TestMain(m *testing.M) {
	Dispatch()
	switch os.Getenv(envTestStage) {
	case stageRun:
		usernsSkip = ""
		if helperMain() {
			return
		}
		code := m.Run()
		cleanupRootfs()
		os.Exit(code)
	case stageWait:
		awaitMappingAndExec()
	}
	code, err := reexecInUserns()
	if err != nil {
		usernsSkip = "user namespaces unavailable: " + err.Error()
		fmt.Fprintln(os.Stderr, usernsSkip)
		os.Exit(m.Run())
	}
	os.Exit(code)
}

// requireUserns skips namespace tests outside the test user namespace.
func requireUserns(t testing.TB) {
	t.Helper()
	if usernsSkip != "" {
		t.Skip(usernsSkip)
	}
}

// reexecInUserns runs the test binary again as root of a new user
// namespace: a 65536-id mapping as root or through newuidmap with a subuid
// range, else the single id of the calling user.
func reexecInUserns() (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS}
	uid, gid := os.Getuid(), os.Getgid()
	subU, subG := subIDRange("/etc/subuid", uid), subIDRange("/etc/subgid", uid)
	_, errU := exec.LookPath("newuidmap")
	_, errG := exec.LookPath("newgidmap")
	switch {
	case uid == 0:
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	case subU != nil && subG != nil && errU == nil && errG == nil:
		return runWithNewuidmap(cmd, uid, gid, subU, subG)
	default:
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
	}
	cmd.Env = append(os.Environ(), envTestStage+"="+stageRun)
	return runChild(cmd)
}

func runChild(cmd *exec.Cmd) (int, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	return waitChild(cmd)
}

func waitChild(cmd *exec.Cmd) (int, error) {
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// runWithNewuidmap starts the child unmapped, maps it with the setuid
// helpers and lets it continue (it then re-executes itself as root).
func runWithNewuidmap(cmd *exec.Cmd, uid, gid int, subU, subG []int) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = append(os.Environ(), envTestStage+"="+stageWait)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	r.Close()
	pid := strconv.Itoa(cmd.Process.Pid)
	for _, c := range [][]string{
		{"newuidmap", pid, "0", strconv.Itoa(uid), "1", "1", strconv.Itoa(subU[0]), strconv.Itoa(min(subU[1], 65535))},
		{"newgidmap", pid, "0", strconv.Itoa(gid), "1", "1", strconv.Itoa(subG[0]), strconv.Itoa(min(subG[1], 65535))},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return 0, fmt.Errorf("%s: %v: %s", c[0], err, out)
		}
	}
	w.Close()
	return waitChild(cmd)
}

// awaitMappingAndExec waits for the parent to close fd 3, then execs the
// test binary again so that it starts as (mapped) root with full
// capabilities in the namespace.
func awaitMappingAndExec() {
	buf := make([]byte, 1)
	_, _ = os.NewFile(3, "sync").Read(buf)
	env := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, envTestStage+"=") })
	env = append(env, envTestStage+"="+stageRun)
	err := syscall.Exec("/proc/self/exe", os.Args, env)
	fmt.Fprintln(os.Stderr, "re-exec in user namespace:", err)
	os.Exit(1)
}

// subIDRange returns [start, count] for uid from /etc/subuid or /etc/subgid.
func subIDRange(file string, uid int) []int {
	names := []string{strconv.Itoa(uid)}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		names = append(names, u.Username)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(p) != 3 || (p[0] != names[0] && (len(names) < 2 || p[0] != names[1])) {
			continue
		}
		start, err1 := strconv.Atoi(p[1])
		n, err2 := strconv.Atoi(p[2])
		if err1 == nil && err2 == nil {
			return []int{start, n}
		}
	}
	return nil
}
