package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// directCommand starts the target itself in CLONE_NEWUSER|CLONE_NEWNS with
// the plan's maps (single-id fallback and root mode). Go writes the maps
// between clone and exec; as an ordinary user only the single-id map with
// setgroups denied is allowed, as root any map is.
func directCommand(opt Opt, p plan) *exec.Cmd {
	cmd := &exec.Cmd{
		Path:       opt.TargetArgs[0],
		Args:       opt.TargetArgs,
		Env:        targetEnv(opt),
		ExtraFiles: opt.ExtraFiles,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
	}
	root := p.mode == modeRoot
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                sysMappings(p.uids),
		GidMappings:                sysMappings(p.gids),
		GidMappingsEnableSetgroups: root,
		// Become uid/gid 0 of the new namespace. For host root this also
		// drops the supplementary groups (setgroups with an empty list),
		// which would otherwise keep host gid 0's file access.
		Credential: &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !root},
		Setpgid:    true,
		Pdeathsig:  syscall.SIGTERM,
	}
	return cmd
}

// targetEnv is the daemon's environment when Run starts it directly.
func targetEnv(opt Opt) []string {
	env := append(baseEnv(), opt.TargetEnv...)
	return append(env,
		ParentEUIDEnv+"="+strconv.Itoa(os.Geteuid()),
		ParentEGIDEnv+"="+strconv.Itoa(os.Getegid()),
		"LISTEN_FDS="+strconv.Itoa(len(opt.ExtraFiles)))
}

// baseEnv is os.Environ() without socket-activation variables meant for this
// process and without this package's private variables.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !privateEnv(kv) {
			env = append(env, kv)
		}
	}
	return env
}

func privateEnv(kv string) bool {
	key, _, _ := strings.Cut(kv, "=")
	switch key {
	case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", helperEnv, configEnv:
		return true
	}
	return strings.HasPrefix(key, "_ROOTLESSKIT_")
}

func sysMappings(rs []IDRange) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(rs))
	for _, r := range rs {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(r.ContainerID), HostID: int(r.HostID), Size: int(r.Size)})
	}
	return out
}

// chownOwned hands StateDir and OwnedDirs to the mapped root (root mode), so
// the namespaced daemon can write them. Only the directories themselves are
// changed: their contents were written by the daemon, under the same map.
func chownOwned(opt Opt, p plan) error {
	uid, gid := int(p.uids[0].HostID), int(p.gids[0].HostID)
	for _, dir := range append([]string{opt.StateDir}, opt.OwnedDirs...) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create owned dir: %w", err)
		}
		if err := os.Lchown(dir, uid, gid); err != nil {
			return fmt.Errorf("chown owned dir to the mapped root: %w", err)
		}
	}
	return nil
}
