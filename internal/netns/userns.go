package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/containerd/log"
)

// Opt configures Run.
type Opt struct {
	// StateDir is the run root, e.g. $XDG_RUNTIME_DIR/dockerd-lite; it is
	// created 0700 if missing. RootlessKit keeps its own state in the
	// "rootlesskit" subdirectory, which it removes on exit.
	StateDir string
	// TargetArgs is the argv of the daemon; TargetArgs[0] must be an
	// absolute path (e.g. os.Executable()).
	TargetArgs []string
	// TargetEnv is extra environment for the daemon, appended to
	// os.Environ(); later entries win.
	TargetEnv []string
	// ExtraFiles are the listeners; they become fds 3, 4, ... in the daemon,
	// which also gets LISTEN_FDS=len(ExtraFiles).
	ExtraFiles []*os.File
	// OwnedDirs are chowned (not recursively) to the mapped root before the
	// start, in root mode only. StateDir is always included.
	OwnedDirs []string
	// Join are the namespaces an earlier run left alive (its container
	// shims hold them). Run joins the first that qualifies instead of
	// creating new ones (see join.go).
	Join []JoinTarget
}

// Environment variables through which the daemon learns the host user's
// effective ids. The names are RootlessKit's documented ones; Run sets them
// in every mode.
const (
	ParentEUIDEnv = "ROOTLESSKIT_PARENT_EUID"
	ParentEGIDEnv = "ROOTLESSKIT_PARENT_EGID"
)

// rootlessKitStateSubdir holds RootlessKit's lock, child_pid and api.sock.
// It is a subdirectory because parent.Parent removes its state dir on exit
// and must not take the daemon's run state with it.
const rootlessKitStateSubdir = "rootlesskit"

// Run creates the user namespace, starts the target in it and blocks until it
// exits. While it runs, SIGTERM, SIGINT and SIGHUP received by this process are
// forwarded to the target, and cancelling ctx sends it SIGTERM. The target runs
// in its own process group so that a terminal's ^C reaches it once, through
// this forwarding, rather than once per process in the chain. Run marks the
// descriptors this process inherited close-on-exec, so that only ExtraFiles
// reach the daemon.
//
// Run returns nil when the target exits with status 0. Otherwise the error
// wraps an *exec.ExitError whose ExitCode is the target's exit status (128+n
// when it died of signal n behind RootlessKit).
func Run(ctx context.Context, opt Opt) error {
	if err := opt.validate(); err != nil {
		return err
	}
	if err := prepare(opt); err != nil {
		return err
	}
	if joined, err := runJoined(ctx, opt); joined {
		return err
	}
	sys, err := hostSystem()
	if err != nil {
		return err
	}
	p, err := makePlan(sys)
	if err != nil {
		return err
	}
	return run(ctx, opt, p)
}

func (opt Opt) validate() error {
	if len(opt.TargetArgs) == 0 || !filepath.IsAbs(opt.TargetArgs[0]) {
		return fmt.Errorf("validate netns options: target %q is not an absolute path", opt.TargetArgs)
	}
	if !filepath.IsAbs(opt.StateDir) {
		return fmt.Errorf("validate netns options: state dir %q is not an absolute path", opt.StateDir)
	}
	return nil
}

// prepare creates the state dir and marks inherited descriptors
// close-on-exec: those from a shell or a supervisor would otherwise leak
// into the daemon; the listeners still arrive because exec dups ExtraFiles
// into place.
func prepare(opt Opt) error {
	if err := os.MkdirAll(opt.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	return closeOnExecFrom(3)
}

func run(ctx context.Context, opt Opt, p plan) error {
	cmd, err := p.command(ctx, opt)
	if err != nil {
		return err
	}
	log.G(ctx).WithField("mode", p.mode.String()).Debug("starting daemon in a user namespace")
	return startAndWait(ctx, cmd, p)
}

func (p plan) command(ctx context.Context, opt Opt) (*exec.Cmd, error) {
	switch p.mode {
	case modeRootlessKit:
		return rootlessKitCommand(opt)
	case modeSingle:
		log.G(ctx).Warnf("user namespace degraded to a single uid and gid (%s): containers have only uid/gid 0, "+
			"so images that use other users or chown files fail; fix: %s", p.reason, p.fix)
		return directCommand(opt, p), nil
	default:
		if err := chownOwned(opt, p); err != nil {
			return nil, err
		}
		return directCommand(opt, p), nil
	}
}

func startAndWait(ctx context.Context, cmd *exec.Cmd, p plan) error {
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigc)
	if err := cmd.Start(); err != nil {
		return p.annotateStart(err)
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(ctx, cmd.Process, sigc, done)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("wait for daemon: %w", err)
	}
	return nil
}

// forwardSignals relays sigc to proc and turns ctx cancellation into one
// SIGTERM, until done is closed.
func forwardSignals(ctx context.Context, proc *os.Process, sigc <-chan os.Signal, done <-chan struct{}) {
	ctxDone := ctx.Done()
	for {
		select {
		case s := <-sigc:
			sendSignal(ctx, proc, s)
		case <-ctxDone:
			ctxDone = nil
			sendSignal(ctx, proc, syscall.SIGTERM)
		case <-done:
			return
		}
	}
}

func sendSignal(ctx context.Context, proc *os.Process, s os.Signal) {
	if err := proc.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
		log.G(ctx).WithError(err).Debugf("forward %v to the daemon", s)
	}
}

// annotateStart tells the user what to change when the kernel refuses the
// namespace, as Docker's rootless scripts do.
func (p plan) annotateStart(err error) error {
	if p.mode != modeRootlessKit && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL)) {
		return fmt.Errorf("create user namespace: %w (check kernel.unprivileged_userns_clone=1, "+
			"user.max_user_namespaces > 0 and kernel.apparmor_restrict_unprivileged_userns=0)", err)
	}
	return fmt.Errorf("start daemon: %w", err)
}
