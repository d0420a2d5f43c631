package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Config describes one daemon. Only Binary and Identity are required.
type Config struct {
	// Binary is the dockerd-lite executable.
	Binary string
	// Identity is the user the daemon runs as.
	Identity Identity
	// BaseDir holds every directory and file of this daemon; a fresh
	// temporary directory when empty.
	BaseDir string
	// DataRoot overrides BaseDir/data (e.g. to share another daemon's).
	DataRoot string
	// Hosts are passed as -H flags; when empty the daemon uses its default
	// socket, $XDG_RUNTIME_DIR/docker.sock.
	Hosts []string
	// Args are extra command-line flags.
	Args []string
	// Env holds extra KEY=VALUE pairs for the daemon's environment.
	Env []string
	// LogLevel is passed as --log-level; "debug" when empty.
	LogLevel string
	// Ready reports whether the daemon serves requests; by default a
	// GET /_ping on the unix socket must answer 200.
	Ready func(ctx context.Context) error
	// PollInterval is the pause between readiness checks; 20ms when zero.
	PollInterval time.Duration
}

// Daemon is one dockerd-lite process tree. Its methods are not safe for
// concurrent use except PID, Exited, paths and HTTPClient.
type Daemon struct {
	cfg Config
	// BaseDir, Home, RuntimeDir, DataHome, ConfigHome, DataRoot, ExecRoot and
	// TmpDir are the daemon's directories, all owned by Identity.
	BaseDir, Home, RuntimeDir, DataHome, ConfigHome, DataRoot, ExecRoot, TmpDir string
	logPath                                                                     string
	cmd                                                                         *exec.Cmd
	done                                                                        chan struct{}
	waitErr                                                                     error
	started                                                                     time.Time
}

// New creates the daemon's directories without starting it, so that a
// caller can put files (certificates, config) in place first.
func New(cfg Config) (*Daemon, error) {
	if cfg.Binary == "" {
		return nil, errors.New("create daemon: no binary")
	}
	base := cfg.BaseDir
	if base == "" {
		var err error
		if base, err = os.MkdirTemp("", "dltest-"); err != nil {
			return nil, fmt.Errorf("create daemon dir: %w", err)
		}
	}
	d := &Daemon{cfg: cfg, BaseDir: base, logPath: filepath.Join(base, "daemon.log")}
	d.Home, d.RuntimeDir = filepath.Join(base, "home"), filepath.Join(base, "run")
	d.DataHome, d.ConfigHome = filepath.Join(d.Home, ".local", "share"), filepath.Join(d.Home, ".config")
	d.DataRoot, d.ExecRoot = filepath.Join(base, "data"), filepath.Join(d.RuntimeDir, "dockerd-lite")
	d.TmpDir = filepath.Join(base, "tmp")
	if cfg.DataRoot != "" {
		d.DataRoot = cfg.DataRoot
	}
	return d, d.makeDirs()
}

func (d *Daemon) makeDirs() error {
	// The exec root is left to the daemon, which creates it with the mode
	// it wants; the data root is created when it is ours.
	dirs := []string{d.BaseDir, d.Home, filepath.Join(d.Home, ".local"), d.DataHome, d.ConfigHome, d.RuntimeDir, d.TmpDir}
	if d.cfg.DataRoot == "" {
		dirs = append(dirs, d.DataRoot)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("chmod %s: %w", dir, err)
		}
	}
	return d.cfg.Identity.Chown(dirs...)
}

// SocketPath is the daemon's default unix socket.
func (d *Daemon) SocketPath() string { return filepath.Join(d.RuntimeDir, "docker.sock") }

// Host is the DOCKER_HOST value for the default socket.
func (d *Daemon) Host() string { return "unix://" + d.SocketPath() }

// LogPath is the file that receives the daemon's stdout and stderr.
func (d *Daemon) LogPath() string { return d.logPath }

// Identity is the user the daemon runs as.
func (d *Daemon) Identity() Identity { return d.cfg.Identity }

// PID is the process id of the parent dockerd-lite process (0 before Launch).
func (d *Daemon) PID() int {
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// StartedAt is when Launch executed the binary.
func (d *Daemon) StartedAt() time.Time { return d.started }

// Args returns the command line Launch uses, without the binary.
func (d *Daemon) Args() []string {
	level := d.cfg.LogLevel
	if level == "" {
		level = "debug"
	}
	args := []string{"--data-root", d.DataRoot, "--exec-root", d.ExecRoot, "--log-level", level}
	for _, h := range d.cfg.Hosts {
		args = append(args, "-H", h)
	}
	return append(args, d.cfg.Args...)
}

func (d *Daemon) env() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	env := []string{
		"PATH=" + path, "HOME=" + d.Home, "USER=" + d.cfg.Identity.Name, "LOGNAME=" + d.cfg.Identity.Name,
		"XDG_RUNTIME_DIR=" + d.RuntimeDir, "XDG_DATA_HOME=" + d.DataHome,
		"XDG_CONFIG_HOME=" + d.ConfigHome, "TMPDIR=" + d.TmpDir, "LANG=C.UTF-8",
	}
	return append(env, d.cfg.Env...)
}

// Launch executes the daemon and returns without waiting for readiness.
func (d *Daemon) Launch() error {
	if d.cmd != nil {
		return errors.New("launch daemon: already launched")
	}
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open daemon log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(d.cfg.Binary, d.Args()...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = d.env(), d.Home, logf, logf
	// Own process group: the daemon's children can be killed together when
	// it hangs. Pdeathsig stops a daemon whose test binary crashed.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: d.cfg.Identity.Credential(),
	}
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("launch daemon: %w", err)
	}
	d.cmd, d.done = cmd, make(chan struct{})
	go func() {
		d.waitErr = cmd.Wait()
		close(d.done)
	}()
	return nil
}

// Exited is closed once the parent process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

// Start launches the daemon and waits until it is ready. On failure the
// daemon is killed and the error carries the tail of its log.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.Launch(); err != nil {
		return err
	}
	if err := d.WaitReady(ctx); err != nil {
		d.Kill()
		return fmt.Errorf("%w\n--- daemon log tail ---\n%s", err, strings.Join(d.TailLog(50), "\n"))
	}
	return nil
}

// WaitReady polls the readiness check until it succeeds, the daemon exits
// or ctx ends.
func (d *Daemon) WaitReady(ctx context.Context) error {
	ready := d.cfg.Ready
	if ready == nil {
		ready = func(ctx context.Context) error { return Ping(ctx, d.HTTPClient(), "http://docker") }
	}
	interval := d.cfg.PollInterval
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(rctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("wait for daemon: exited before ready: %v (last check: %v)", d.waitErr, last)
		case <-ctx.Done():
			return fmt.Errorf("wait for daemon: %w (last check: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Wait blocks until the parent process exits and returns its exit code
// (-1 when killed by a signal).
func (d *Daemon) Wait(ctx context.Context) (int, error) {
	if d.cmd == nil {
		return 0, errors.New("wait for daemon: not launched")
	}
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode(), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for daemon exit: %w", ctx.Err())
	}
}

// Stop sends SIGTERM and waits until ctx ends for a clean exit (status 0).
// A daemon that does not exit in time is killed, with its process group,
// and Stop reports that. Stopping an exited daemon reports how it exited.
func (d *Daemon) Stop(ctx context.Context) error {
	if d.cmd == nil {
		return nil
	}
	select {
	case <-d.done:
		return d.exitError("daemon had already exited")
	default:
	}
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal daemon: %w", err)
	}
	select {
	case <-d.done:
		return d.exitError("daemon exited uncleanly after SIGTERM")
	case <-ctx.Done():
		d.Kill()
		return fmt.Errorf("stop daemon: pid %d still running %s after SIGTERM (%v); killed",
			d.PID(), time.Since(start).Round(time.Millisecond), ctx.Err())
	}
}

func (d *Daemon) exitError(msg string) error {
	if d.waitErr != nil {
		return fmt.Errorf("%s: %w", msg, d.waitErr)
	}
	return nil
}

// Kill sends SIGKILL to the daemon's process group and to every descendant
// (those that left the group too), then waits for the parent to be reaped.
func (d *Daemon) Kill() {
	if d.cmd == nil {
		return
	}
	pids := Descendants(d.PID())
	_ = syscall.Kill(-d.PID(), syscall.SIGKILL)
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

// TailLog returns the last n lines of the daemon log.
func (d *Daemon) TailLog(n int) []string {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return []string{fmt.Sprintf("(read daemon log: %v)", err)}
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Log returns the whole daemon log.
func (d *Daemon) Log() string {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return fmt.Sprintf("(read daemon log: %v)", err)
	}
	return string(data)
}

// Cleanup kills the shims (and containers) left under the data root, then
// removes BaseDir (which holds files owned by subordinate ids once the
// daemon has unpacked images). Call it after Stop.
func (d *Daemon) Cleanup(ctx context.Context) error {
	KillShims(d.DataRoot)
	return RemoveAll(ctx, d.BaseDir)
}
