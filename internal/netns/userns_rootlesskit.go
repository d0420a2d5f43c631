package netns

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
	"github.com/rootless-containers/rootlesskit/v2/pkg/child"
	"github.com/rootless-containers/rootlesskit/v2/pkg/parent"
	"github.com/rootless-containers/rootlesskit/v2/pkg/systemd/activation"
	"golang.org/x/sys/unix"
)

// Environment keys of the RootlessKit protocol. RootlessKit leaves their
// names to the embedding program; these are private to dockerd-lite.
const (
	rkPipeFDEnv           = "_DOCKERD_LITE_RK_PIPEFD"
	rkChildActivationEnv  = "_DOCKERD_LITE_RK_CHILD_USE_ACTIVATION"
	rkActivationHelperEnv = "_DOCKERD_LITE_RK_ACTIVATION_HELPER"
	rkStateDirEnv         = "ROOTLESSKIT_STATE_DIR" // documented by RootlessKit
)

// helperConfig travels from Run to the helper processes in configEnv.
type helperConfig struct {
	StateDir   string   // RootlessKit's state dir
	TargetArgs []string // the daemon's argv
	TargetEnv  []string // applied only in the last step, before exec
	NFiles     int      // listeners at fds 3..3+NFiles-1
	// Propagation is the child's mount propagation: rslave when the host's
	// root mount is shared, so later host mounts show up in the daemon;
	// rprivate otherwise, where rslave is unsupported (RootlessKit warns).
	Propagation string
}

// rootlessKitCommand starts the parent helper: this binary again, with the
// listeners at fds 3.. where parent.Parent expects systemd's sockets.
func rootlessKitCommand(opt Opt) (*exec.Cmd, error) {
	cfg, err := json.Marshal(helperConfig{
		StateDir:    filepath.Join(opt.StateDir, rootlessKitStateSubdir),
		TargetArgs:  opt.TargetArgs,
		TargetEnv:   opt.TargetEnv,
		NFiles:      len(opt.ExtraFiles),
		Propagation: rootPropagation(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode helper config: %w", err)
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       os.Args,
		Env:        append(baseEnv(), helperEnv+"="+helperParent, configEnv+"="+string(cfg)),
		ExtraFiles: opt.ExtraFiles,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return cmd, nil
}

func readHelperConfig() (helperConfig, error) {
	var cfg helperConfig
	if err := json.Unmarshal([]byte(os.Getenv(configEnv)), &cfg); err != nil {
		return cfg, fmt.Errorf("decode helper config: %w", err)
	}
	if len(cfg.TargetArgs) == 0 {
		return cfg, fmt.Errorf("decode helper config: no target")
	}
	return cfg, nil
}

// runParentHelper runs RootlessKit's parent. Setting LISTEN_PID to our own
// pid and LISTEN_FDS makes parent.Parent hand fds 3.. to the child and tell
// it to start the activation helper, exactly as under systemd.
func runParentHelper() error {
	cfg, err := readHelperConfig()
	if err != nil {
		return err
	}
	os.Unsetenv(helperEnv)
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	os.Setenv("LISTEN_FDS", strconv.Itoa(cfg.NFiles))
	if err := parent.InitStateDir(cfg.StateDir); err != nil {
		return fmt.Errorf("init rootlesskit state dir: %w", err)
	}
	return parent.Parent(parent.Opt{
		PipeFDEnvKey:             rkPipeFDEnv,
		ChildUseActivationEnvKey: rkChildActivationEnv,
		StateDir:                 cfg.StateDir,
		StateDirEnvKey:           rkStateDirEnv,
		ParentEUIDEnvKey:         ParentEUIDEnv,
		ParentEGIDEnvKey:         ParentEGIDEnv,
		Propagation:              cfg.Propagation,
		// The plan chose this mode from the ranges in /etc/subuid and
		// /etc/subgid, so rootlesskit maps exactly those (not what
		// getsubids might add from NSS).
		SubidSource: parent.SubidSourceStatic,
	})
}

// runChild runs RootlessKit's child inside the new namespaces. With host
// networking, no port driver and no PID namespace it only waits for the maps,
// sets rslave propagation and starts the activation helper.
func runChild() error {
	cfg, err := readHelperConfig()
	if err != nil {
		return err
	}
	return child.Child(child.Opt{
		PipeFDEnvKey:              rkPipeFDEnv,
		RunActivationHelperEnvKey: rkActivationHelperEnv,
		ChildUseActivationEnvKey:  rkChildActivationEnv,
		StateDirEnvKey:            rkStateDirEnv,
		TargetCmd:                 cfg.TargetArgs,
		Propagation:               cfg.Propagation,
	})
}

// runActivationHelper is the last step: it cleans the environment, adds the
// caller's TargetEnv and execs the daemon with the listeners at fds 3...
func runActivationHelper() error {
	cfg, err := readHelperConfig()
	if err != nil {
		return err
	}
	for _, kv := range os.Environ() {
		if key, _, _ := strings.Cut(kv, "="); privateEnv(kv) && key != rkActivationHelperEnv {
			os.Unsetenv(key)
		}
	}
	for _, kv := range cfg.TargetEnv {
		key, val, _ := strings.Cut(kv, "=")
		os.Setenv(key, val)
	}
	os.Setenv("LISTEN_FDS", strconv.Itoa(cfg.NFiles))
	// RootlessKit's pipes were inherited without close-on-exec; only the
	// listeners may reach the daemon.
	if err := closeOnExecFrom(3 + cfg.NFiles); err != nil {
		return err
	}
	return activation.ActivationHelper(activation.Opt{
		RunActivationHelperEnvKey: rkActivationHelperEnv,
		TargetCmd:                 cfg.TargetArgs,
	})
}

func rootPropagation() string {
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter("/"))
	if err == nil && len(mounts) == 1 && strings.Contains(mounts[0].Optional, "shared:") {
		return "rslave"
	}
	return "rprivate"
}

// closeOnExecFrom sets FD_CLOEXEC on every fd >= first.
func closeOnExecFrom(first int) error {
	if unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return nil
	}
	// close_range(2) with CLOSE_RANGE_CLOEXEC needs Linux 5.11.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}
