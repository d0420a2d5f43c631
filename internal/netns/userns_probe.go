package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrUserNamespace marks a probe that could not create a user namespace at
// all, as opposed to one whose overlay mount failed.
var ErrUserNamespace = errors.New("cannot create a user namespace")

// ProbeOverlay reports whether a native overlay mount works in a fresh user
// namespace on the filesystem of dir, which must exist. It re-executes this
// binary (handled by Dispatch) in a throw-away single-id user namespace and
// mount namespace, mounts an overlay in a temporary subdirectory of dir,
// writes through it and deletes a lower file (a whiteout), then cleans up.
//
// On success it returns the extra mount option that was needed: "userxattr"
// or "". Errors that wrap ErrUserNamespace mean no user namespace could be
// created.
func ProbeOverlay(ctx context.Context, dir string) (string, error) {
	tmp, err := os.MkdirTemp(dir, ".overlay-probe-")
	if err != nil {
		return "", fmt.Errorf("create overlay probe dir: %w", err)
	}
	defer removeProbeDir(tmp)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{"dockerd-lite-overlay-probe", tmp}
	cmd.Env = append(baseEnv(), helperEnv+"="+helperOverlayProbe)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: probeMapping(os.Geteuid(), dir, func(st *syscall.Stat_t) int { return int(st.Uid) }),
		GidMappings: probeMapping(os.Getegid(), dir, func(st *syscall.Stat_t) int { return int(st.Gid) }),
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUserNamespace, err)
	}
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("probe overlay: %s (%w)", strings.TrimSpace(out.String()), err)
	}
	return strings.TrimSpace(out.String()), nil
}

// probeMapping maps 0 to id. As host root it also maps dir's owner (the
// mapped root of an earlier run, in root mode), so that the probe may walk
// into dir, which only its owner may enter.
func probeMapping(id int, dir string, owner func(*syscall.Stat_t) int) []syscall.SysProcIDMap {
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: id, Size: 1}}
	var st syscall.Stat_t
	if os.Geteuid() == 0 && syscall.Stat(dir, &st) == nil && owner(&st) != id {
		m = append(m, syscall.SysProcIDMap{ContainerID: 1, HostID: owner(&st), Size: 1})
	}
	return m
}

// runOverlayProbe is the namespaced side of ProbeOverlay.
func runOverlayProbe() error {
	if len(os.Args) != 2 {
		return errors.New("probe overlay: want the probe dir as the only argument")
	}
	dir := os.Args[1]
	// Only the namespace's root may remove overlay's mode-000 work/work.
	defer removeProbeDir(dir)
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	for _, sub := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("probe overlay: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "lower", "probe"), []byte("x"), 0o644); err != nil {
		return fmt.Errorf("probe overlay: %w", err)
	}
	opt, err := mountOverlay(dir)
	if err != nil {
		return err
	}
	err = exerciseOverlay(dir)
	if uerr := unix.Unmount(filepath.Join(dir, "merged"), 0); err == nil && uerr != nil {
		err = fmt.Errorf("unmount overlay: %w", uerr)
	}
	if err != nil {
		return err
	}
	fmt.Print(opt)
	return nil
}

// mountOverlay tries "userxattr" first: kernels >= 5.11 that allow overlay in
// a user namespace want it for the xattrs an unprivileged mounter may set.
func mountOverlay(dir string) (string, error) {
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
		filepath.Join(dir, "lower"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
	var err error
	for _, extra := range []string{"userxattr", ""} {
		opts := data
		if extra != "" {
			opts += "," + extra
		}
		if err = unix.Mount("overlay", filepath.Join(dir, "merged"), "overlay", 0, opts); err == nil {
			return extra, nil
		}
	}
	return "", fmt.Errorf("mount overlay: %w", err)
}

// exerciseOverlay reads, writes and deletes through the mount.
func exerciseOverlay(dir string) error {
	merged := filepath.Join(dir, "merged")
	if b, err := os.ReadFile(filepath.Join(merged, "probe")); err != nil || string(b) != "x" {
		return fmt.Errorf("read through overlay: %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(merged, "new"), []byte("y"), 0o644); err != nil {
		return fmt.Errorf("write through overlay: %w", err)
	}
	if err := os.Remove(filepath.Join(merged, "probe")); err != nil {
		return fmt.Errorf("delete through overlay: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lower", "probe")); err != nil {
		return fmt.Errorf("overlay delete reached the lower layer: %w", err)
	}
	return nil
}

// removeProbeDir removes a probe dir, including overlay's mode-000 work/work
// directory when the namespaced side could not.
func removeProbeDir(dir string) {
	if os.RemoveAll(dir) != nil {
		os.Chmod(filepath.Join(dir, "work", "work"), 0o700)
		os.RemoveAll(dir)
	}
}
