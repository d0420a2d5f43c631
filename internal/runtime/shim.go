package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/log"
	// Registers the device-rule setter the cgroup managers require; it is
	// a no-op where the devices hierarchy is not writable (rootless).
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// errNotRunningMsg is the shim's answer to an operation that needs a live
// container; the client turns it back into a Conflict error.
const errNotRunningMsg = "container is not running"

// errExecNotRunningMsg answers a request for an exec that has ended.
const errExecNotRunningMsg = "exec is not running"

// drainTimeout bounds how long the shim waits for output after the process
// ended (a daemonized grandchild may hold the pipes open).
const drainTimeout = 2 * time.Second

// shim owns one container: libcontainer object, init process, stdio, log.
type shim struct {
	cfg      shimConfig
	stateDir string
	runDir   string
	ctr      *libcontainer.Container
	init     *libcontainer.Process
	pio      *procIO
	log      *jsonLog
	logOut   *lineWriter
	logErr   *lineWriter
	pumped   <-chan struct{}
	hub      hub
	ln       *net.UnixListener
	handlers sync.WaitGroup

	mu        sync.Mutex
	status    string
	pid       int
	startedAt time.Time
	exit      *ExitStatus
	done      chan struct{}
	execs     map[string]*procIO
	seccomp   execSeccomp
}

// runShim is the shim's main: create the container, report to the daemon
// through fd 3, then serve until the container has stopped.
func runShim(ctx context.Context) int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	if !awaitGoAhead() {
		return 0 // prepared, then not used
	}
	ready := os.NewFile(3, "ready")
	s := &shim{stateDir: os.Getenv(envStateDir), runDir: os.Getenv(envRunDir),
		done: make(chan struct{}), execs: map[string]*procIO{}}
	if err := s.create(ctx); err != nil {
		log.G(ctx).WithError(err).Error("shim: create container")
		_ = writeJSONLine(ready, response{Err: err.Error()})
		return 1
	}
	_ = writeJSONLine(ready, response{Pid: s.pid})
	ready.Close()
	s.serve(ctx)
	return 0
}

// create builds the container and its init process, which then waits for
// Start, and opens the shim's socket.
func (s *shim) create(ctx context.Context) error {
	if err := s.readConfig(); err != nil {
		return err
	}
	// Exec'd processes and the container's init are grandchildren of the
	// shim; being their subreaper lets libcontainer wait for them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set subreaper: %w", err)
	}
	if err := s.newContainer(); err != nil {
		return err
	}
	if err := s.startInit(ctx); err != nil {
		_ = s.ctr.Destroy()
		return err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(s.runDir, sockName), Net: "unix"})
	if err != nil {
		_ = s.init.Signal(syscall.SIGKILL)
		return fmt.Errorf("listen on shim socket: %w", err)
	}
	// A restarted container's next shim listens on the same path: this one
	// must never unlink it on its way out (Delete removes the directory).
	ln.SetUnlinkOnClose(false)
	s.ln = ln
	go s.waitInit(ctx)
	return nil
}

func (s *shim) readConfig() error {
	b, err := os.ReadFile(filepath.Join(s.stateDir, configFile))
	if err != nil {
		return fmt.Errorf("read shim config: %w", err)
	}
	return json.Unmarshal(b, &s.cfg)
}

// newContainer converts the spec and creates the libcontainer container.
// Cgroups are managed "rootless": a hierarchy we may not write is skipped.
func (s *shim) newContainer() error {
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      s.cfg.ID,
		Spec:            s.cfg.Spec,
		RootlessEUID:    os.Geteuid() != 0,
		RootlessCgroups: true,
	})
	if err != nil {
		return fmt.Errorf("convert spec: %w", err)
	}
	splitCgroupPath(config.Cgroups)
	if config.Namespaces.Contains(configs.NEWNET) && config.Namespaces.PathOf(configs.NEWNET) == "" {
		config.Networks = append(config.Networks, &configs.Network{Type: "loopback"})
	}
	s.seccomp.profile = config.Seccomp
	s.ctr, err = libcontainer.Create(filepath.Join(s.runDir, "lc"), s.cfg.ID, config)
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	return nil
}

// startInit starts the init process up to the point where it waits for
// Start, with its stdio wired to the log and the attach hub.
func (s *shim) startInit(ctx context.Context) error {
	spec := s.cfg.Spec.Process
	s.init = newProcess(spec, true)
	pio, err := newProcIO(s.init, spec.Terminal, s.cfg.IO.OpenStdin)
	if err != nil {
		return err
	}
	s.pio = pio
	if s.log, err = openJSONLog(s.cfg.IO.LogPath, s.cfg.IO.LogMaxSize, s.cfg.IO.LogMaxFiles); err != nil {
		pio.close()
		return err
	}
	if err := s.ctr.Start(s.init); err != nil {
		pio.close()
		return fmt.Errorf("start container init: %w", err)
	}
	if err := pio.started(); err != nil {
		_ = s.init.Signal(syscall.SIGKILL)
		return err
	}
	s.pid, _ = s.init.Pid()
	s.status = StatusCreated
	if pio.console != nil && spec.ConsoleSize != nil {
		_ = resizePty(pio.console, spec.ConsoleSize.Height, spec.ConsoleSize.Width)
	}
	s.logOut = &lineWriter{log: s.log, stream: "stdout"}
	s.logErr = &lineWriter{log: s.log, stream: "stderr"}
	s.pumped = pio.pump(io.MultiWriter(s.logOut, s.hub.writer(frameStdout)),
		io.MultiWriter(s.logErr, s.hub.writer(frameStderr)))
	log.G(ctx).WithField("container", s.cfg.ID).Debugf("shim: init pid %d", s.pid)
	return nil
}

// newProcess converts the runtime-spec process; rlimits, seccomp and the
// rest come from the container's config.
func newProcess(p *specs.Process, init bool) *libcontainer.Process {
	nnp := p.NoNewPrivileges
	lp := &libcontainer.Process{
		Args: p.Args, Env: p.Env, Cwd: p.Cwd, Init: init,
		UID: int(p.User.UID), GID: int(p.User.GID),
		NoNewPrivileges: &nnp,
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{Bounding: c.Bounding, Effective: c.Effective,
			Inheritable: c.Inheritable, Permitted: c.Permitted, Ambient: c.Ambient}
	}
	if p.ConsoleSize != nil {
		lp.ConsoleHeight, lp.ConsoleWidth = uint16(p.ConsoleSize.Height), uint16(p.ConsoleSize.Width)
	}
	return lp
}

// waitInit records how the init process ended, once its output is drained.
func (s *shim) waitInit(ctx context.Context) {
	st, err := s.init.Wait()
	exit := exitStatus(st, err)
	waitDrained(s.pumped)
	s.pio.close()
	<-s.pumped // closing the read ends ends the pumps
	s.logOut.flush()
	s.logErr.flush()
	if err := s.log.close(); err != nil {
		log.G(ctx).WithError(err).Warn("shim: close log")
	}
	s.finish(ctx, exit)
}

// exitStatus turns a wait result into Docker's exit code convention.
func exitStatus(st *os.ProcessState, err error) ExitStatus {
	ex := ExitStatus{FinishedAt: time.Now().UTC()}
	if st == nil {
		ex.ExitCode, ex.Error = 255, fmt.Sprint("wait for process: ", err)
		return ex
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		ex.Signal = int(ws.Signal())
		ex.ExitCode = 128 + ex.Signal
	default:
		ex.ExitCode = st.ExitCode()
	}
	return ex
}

// wait for done, but not longer than drainTimeout.
func waitDrained(done <-chan struct{}) {
	select {
	case <-done:
	case <-time.After(drainTimeout):
	}
}

// finish releases libcontainer's state, persists the exit status, then
// tells waiters and attachers. The order matters: a waiter may restart the
// container at once, and its new shim reuses the same state paths.
func (s *shim) finish(ctx context.Context, exit ExitStatus) {
	exit.OOMKilled = oomKilled(s.ctr)
	if err := s.ctr.Destroy(); err != nil {
		log.G(ctx).WithError(err).Warn("shim: destroy container")
	}
	b, _ := json.Marshal(exit)
	if err := writeFileAtomic(filepath.Join(s.stateDir, exitFile), b); err != nil {
		log.G(ctx).WithError(err).Error("shim: record exit status")
	}
	s.mu.Lock()
	s.status, s.exit, s.pid = StatusStopped, &exit, 0
	s.mu.Unlock()
	s.hub.closeAll(b)
	close(s.done)
}

// serve accepts daemon connections until the container has stopped and
// every open request is answered.
func (s *shim) serve(ctx context.Context) {
	go func() {
		<-s.done
		s.ln.Close()
	}()
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			break
		}
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			defer conn.Close()
			s.handle(ctx, conn)
		}()
	}
	s.handlers.Wait()
}

func errReply(w io.Writer, err error) {
	_ = writeJSONLine(w, response{Err: err.Error()})
}

var errNotRunning = errors.New(errNotRunningMsg)
