package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/config"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// handoffEnv carries the parent's resolved state to the daemon process: the
// daemon runs as uid 0 in the user namespace, where the defaults (XDG paths,
// rootless or not) would resolve differently.
const handoffEnv = "_DOCKERD_LITE_HANDOFF"

type handoff struct {
	Config     config.Config
	ConfigFile string
	Findings   []preflight.Finding
	Rootless   bool
}

func readHandoff() (handoff, bool) {
	raw, ok := os.LookupEnv(handoffEnv)
	if !ok {
		return handoff{}, false
	}
	os.Unsetenv(handoffEnv)
	var h handoff
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		fmt.Fprintln(os.Stderr, "dockerd-lite: bad handoff from parent:", err)
		os.Exit(1)
	}
	h.Config.ConfigFile = h.ConfigFile
	return h, true
}

// runParent does the host-side work: preflight, the data-root lock, the
// listeners, then runs the daemon in a user namespace until it exits.
func runParent(ctx context.Context, cfg config.Config) error {
	if err := setupLogging(cfg.LogLevel); err != nil {
		return err
	}
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	findings := preflight.Check(ctx, preflight.Opt{ProbeDir: cfg.DataRoot, CgroupParent: cfg.CgroupParent})
	preflight.Log(ctx, findings)
	unlock, err := lockDataRoot(cfg.DataRoot)
	if err != nil {
		return err
	}
	defer unlock()
	lns, err := listen(ctx, cfg)
	if err != nil {
		return err
	}
	defer lns.close()
	env, err := json.Marshal(handoff{Config: cfg, ConfigFile: cfg.ConfigFile, Findings: findings, Rootless: os.Getuid() != 0})
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	return netns.Run(ctx, netns.Opt{
		StateDir:   filepath.Join(cfg.ExecRoot, "rootlesskit"),
		TargetArgs: []string{exe},
		TargetEnv:  []string{handoffEnv + "=" + string(env)},
		ExtraFiles: lns.files,
		OwnedDirs:  []string{cfg.DataRoot, cfg.ExecRoot},
		// Containers that outlived the previous daemon hold its namespaces:
		// joining them keeps their network and mounts manageable.
		Join: joinTargets(cfg),
	})
}

// joinTargets lists the namespaces the shims of running containers hold.
func joinTargets(cfg config.Config) []netns.JoinTarget {
	var out []netns.JoinTarget
	for _, ns := range runtime.ShimNamespaces(runtime.RunRootIn(cfg.ExecRoot)) {
		out = append(out, netns.JoinTarget(ns))
	}
	return out
}

// lockDataRoot makes sure one daemon owns a data root. The lock file holds
// the owner's pid so the refusal can name it.
func lockDataRoot(root string) (func(), error) {
	path := filepath.Join(root, "dockerd-lite.pid")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data root %s is in use by another dockerd-lite (pid %s); stop it or pass a different --data-root",
				root, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		f.Close()
	}, nil
}
