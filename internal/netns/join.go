package netns

// #cgo CFLAGS: -Wall
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/containerd/log"
	"golang.org/x/sys/unix"
)

// A daemon restart joins the namespaces of the previous daemon when any of
// its container shims still runs. Those processes keep the user namespace
// and the mount namespace alive, and with them everything the previous
// daemon set up there: the network sandbox and the container network
// namespaces (bind mounts), overlay and volume mounts. A fresh user
// namespace could not manage any of it.
//
// setns(2) into a user namespace refuses multithreaded processes, so the
// join itself is done by the C constructor in join.c, before the Go
// runtime starts, from descriptors named in joinEnv.
const (
	joinEnv = "_DOCKERD_LITE_JOIN_NS"
	// joinFailedStatus is the constructor's exit status when the kernel
	// refused the join; Run then creates fresh namespaces.
	joinFailedStatus = 87
)

// reexecJoined runs the daemon again, by its path, in the namespaces
// join.c joined. The process image it has was opened in the host's mount
// namespace, where /proc/self/exe no longer resolves, and the daemon
// re-executes itself (shims, probes) through it. argv[0] is the absolute
// path the parent gave (Opt.TargetArgs).
func reexecJoined() {
	os.Unsetenv(joinEnv)
	err := syscall.Exec(os.Args[0], os.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "dockerd-lite: re-execute %s in the joined namespaces: %v\n", os.Args[0], err)
	os.Exit(joinFailedStatus)
}

// JoinTarget names a user namespace and a mount namespace to join, as
// paths (e.g. /proc/<pid>/ns/user, or a descriptor under /proc/<pid>/fd).
type JoinTarget struct{ User, Mount string }

// openJoin opens the first target whose user namespace this user owns
// and is not ours.
func openJoin(ctx context.Context, targets []JoinTarget) []*os.File {
	for _, t := range targets {
		files, err := openNamespaces(t)
		if err == nil {
			return files
		}
		log.G(ctx).WithError(err).Debugf("cannot join %+v", t)
	}
	return nil
}

func openNamespaces(t JoinTarget) ([]*os.File, error) {
	user, err := os.Open(t.User)
	if err != nil {
		return nil, err
	}
	mnt, err := os.Open(t.Mount)
	if err != nil {
		user.Close()
		return nil, err
	}
	files := []*os.File{user, mnt}
	if err := checkJoinable(user); err != nil {
		closeAll(files)
		return nil, err
	}
	return files, nil
}

// checkJoinable accepts a user namespace other than ours whose owner is
// this process's effective uid: one an earlier run created.
func checkJoinable(user *os.File) error {
	var self, other unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &self); err != nil {
		return err
	}
	if err := unix.Fstat(int(user.Fd()), &other); err != nil {
		return err
	}
	if self.Ino == other.Ino && self.Dev == other.Dev {
		return errors.New("the process is in our own user namespace")
	}
	owner, err := unix.IoctlGetUint32(int(user.Fd()), unix.NS_GET_OWNER_UID)
	if err != nil {
		return fmt.Errorf("owner of the user namespace: %w", err)
	}
	if int(owner) != os.Geteuid() {
		return fmt.Errorf("the user namespace belongs to uid %d", owner)
	}
	return nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// joinCommand starts the target in the namespaces ns (user, mount): the
// descriptors follow the listeners, and the constructor closes them.
func joinCommand(opt Opt, ns []*os.File) *exec.Cmd {
	n := len(opt.ExtraFiles)
	return &exec.Cmd{
		Path:        opt.TargetArgs[0],
		Args:        opt.TargetArgs,
		Env:         append(targetEnv(opt), fmt.Sprintf("%s=%d,%d", joinEnv, 3+n, 4+n)),
		ExtraFiles:  append(append([]*os.File{}, opt.ExtraFiles...), ns...),
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM},
	}
}

// runJoined runs the target in the namespaces of one of opt.Join. It
// reports false when there is nothing to join or the kernel refused, and
// Run should create fresh namespaces.
func runJoined(ctx context.Context, opt Opt) (bool, error) {
	ns := openJoin(ctx, opt.Join)
	if ns == nil {
		return false, nil
	}
	defer closeAll(ns)
	log.G(ctx).Info("joining the namespaces of the running containers")
	err := startAndWait(ctx, joinCommand(opt, ns), plan{mode: modeJoin})
	if code, ok := exitCode(err); ok && code == joinFailedStatus {
		log.G(ctx).Warn("could not join the namespaces of the running containers; their network stays unreachable until they restart")
		return false, nil
	}
	return true, err
}
