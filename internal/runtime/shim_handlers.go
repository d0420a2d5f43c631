package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/log"
	"github.com/opencontainers/runc/libcontainer"
)

// handle serves one daemon connection: a request line, a reply line and,
// for attach and exec, a stream.
func (s *shim) handle(ctx context.Context, conn *net.UnixConn) {
	br := bufio.NewReader(conn)
	var req request
	if err := readJSONLine(br, &req); err != nil {
		return
	}
	switch req.Op {
	case opState:
		_ = writeJSONLine(conn, response{State: s.state()})
	case opStart:
		s.reply(conn, s.start)
	case opSignal:
		s.reply(conn, func() (int, error) { return 0, s.signal(syscall.Signal(req.Signal)) })
	case opResize:
		s.reply(conn, func() (int, error) { return 0, s.resize(req) })
	case opWait:
		_ = writeJSONLine(conn, response{})
		<-s.done
		_ = writeJSONLine(conn, response{Exit: s.state().Exit})
	case opAttach:
		s.attach(conn, br, req)
	case opExec:
		s.exec(ctx, conn, br, req)
	default:
		errReply(conn, fmt.Errorf("unknown shim operation %q", req.Op))
	}
}

// reply runs fn and answers with its pid or error.
func (s *shim) reply(w io.Writer, fn func() (int, error)) {
	pid, err := fn()
	if err != nil {
		errReply(w, err)
		return
	}
	_ = writeJSONLine(w, response{Pid: pid})
}

func (s *shim) state() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &State{Status: s.status, Running: s.status == StatusRunning, Pid: s.pid,
		StartedAt: s.startedAt, Exit: s.exit}
}

// start lets the created init process exec the container's command.
func (s *shim) start() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.status {
	case StatusStopped:
		return 0, errNotRunning
	case StatusRunning:
		return s.pid, errors.New("container is already running")
	}
	if err := s.ctr.Exec(); err != nil {
		return 0, fmt.Errorf("exec container process: %w", err)
	}
	awaitExecve(s.pid)
	s.status, s.startedAt = StatusRunning, time.Now().UTC()
	b, _ := json.Marshal(startedRecord{Pid: s.pid, StartedAt: s.startedAt})
	if err := writeFileAtomic(filepath.Join(s.stateDir, startedFile), b); err != nil {
		return s.pid, fmt.Errorf("record start: %w", err)
	}
	return s.pid, nil
}

func (s *shim) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == StatusStopped {
		return errNotRunning
	}
	if err := s.init.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal init: %w", err)
	}
	return nil // a process that already ended needs no signal
}

func (s *shim) resize(req request) error {
	s.mu.Lock()
	pio := s.pio
	if req.ExecID != "" {
		pio = s.execs[req.ExecID]
	}
	s.mu.Unlock()
	if pio == nil {
		return errors.New(errExecNotRunningMsg) // ended (or never was)
	}
	if pio.console == nil {
		return errors.New("process has no tty")
	}
	return resizePty(pio.console, req.Height, req.Width)
}

// attach subscribes the connection to the live output and feeds its stdin
// to the container until the container stops or the client goes away.
func (s *shim) attach(conn *net.UnixConn, br *bufio.Reader, req request) {
	sub := &subscriber{conn: conn, stdout: req.Stdout, stderr: req.Stderr || s.pio.tty && req.Stdout,
		gone: make(chan struct{})}
	s.mu.Lock()
	if s.status == StatusStopped {
		s.mu.Unlock()
		errReply(conn, errNotRunning)
		return
	}
	_ = writeJSONLine(conn, response{})
	s.hub.add(sub)
	s.mu.Unlock()
	if req.Stdin {
		closeAtEOF := halfClosed(conn)
		go s.pio.feed(br, func() bool { return req.CloseStdin && closeAtEOF() })
	}
	<-sub.gone
}

// exec runs another process in the container and streams its stdio back
// on the connection, ending with its exit status.
func (s *shim) exec(ctx context.Context, conn *net.UnixConn, br *bufio.Reader, req request) {
	if req.Process == nil {
		errReply(conn, errors.New("exec needs a process"))
		return
	}
	// As in Docker, no_new_privs of the container holds for its execs.
	req.Process.NoNewPrivileges = req.Process.NoNewPrivileges || s.cfg.Spec.Process.NoNewPrivileges
	p := newProcess(req.Process, false)
	pio, err := s.startExec(ctx, req, p)
	if err != nil {
		errReply(conn, err)
		return
	}
	defer s.dropExec(req.ExecID)
	pid, _ := p.Pid()
	_ = writeJSONLine(conn, response{Pid: pid})
	var wmu sync.Mutex
	out, errw := sink(req.Stdout, &wmu, conn, frameStdout), sink(req.Stderr, &wmu, conn, frameStderr)
	pumped := pio.pump(out, errw)
	if req.Stdin {
		go pio.feed(br, func() bool { return true })
	}
	st, err := p.Wait()
	exit := exitStatus(st, err)
	waitDrained(pumped)
	pio.close()
	<-pumped
	b, _ := json.Marshal(exit)
	_ = writeFrame(&wmu, conn, frameExit, b)
	log.G(ctx).WithField("container", s.cfg.ID).Debugf("shim: exec %s exited %d", req.ExecID, exit.ExitCode)
}

// startExec starts p with its own stdio while the container runs, handing
// it the precompiled seccomp filter when there is one.
func (s *shim) startExec(ctx context.Context, req request, p *libcontainer.Process) (*procIO, error) {
	filter := s.execFilter(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != StatusRunning {
		return nil, errNotRunning
	}
	pio, err := newProcIO(p, req.Process.Terminal, req.Stdin)
	if err != nil {
		return nil, err
	}
	if filter != nil && s.useExecFilter(ctx) {
		p.ExtraFiles = []*os.File{filter}
	}
	if err := s.ctr.Run(p); err != nil {
		pio.close()
		return nil, fmt.Errorf("exec process: %w", err)
	}
	if err := s.checkExecFiltered(p); err != nil {
		pio.close()
		return nil, err
	}
	if err := pio.started(); err != nil {
		_ = p.Signal(syscall.SIGKILL)
		return nil, err
	}
	if pio.console != nil && req.Process.ConsoleSize != nil {
		_ = resizePty(pio.console, req.Process.ConsoleSize.Height, req.Process.ConsoleSize.Width)
	}
	if req.ExecID != "" {
		s.execs[req.ExecID] = pio
	}
	return pio, nil
}

func (s *shim) dropExec(id string) {
	s.mu.Lock()
	delete(s.execs, id)
	s.mu.Unlock()
}

// sink frames one stream onto the connection, or discards it.
func sink(want bool, mu *sync.Mutex, w io.Writer, kind byte) io.Writer {
	if !want {
		return io.Discard
	}
	return frameWriter{mu: mu, w: w, kind: kind}
}

// awaitExecve waits (briefly) until the container's command can take
// signals. libcontainer's init, released by Exec, is the engine binary with
// Go's signal handlers until it execs; docker-init (--init) is again the
// engine binary until its reaper handles signals, which it does before it
// starts its one child. A docker stop right after docker run -d would
// otherwise make pid 1 exit with status 2 instead of reaching the command.
func awaitExecve(pid int) {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			return
		}
		switch comm := strings.TrimSpace(string(b)); {
		case strings.HasPrefix(comm, "runc:["):
		case comm == "docker-init" && !hasChildren(pid):
		default:
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func hasChildren(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	return err != nil || len(strings.TrimSpace(string(b))) > 0
}

// checkExecFiltered makes sure an exec that was handed the filter runs
// under it: libcontainer was told not to load the profile, so a process
// that did not load it must not go on.
func (s *shim) checkExecFiltered(p *libcontainer.Process) error {
	if !s.seccomp.active {
		return nil
	}
	if pid, err := p.Pid(); err == nil && seccompFiltered(pid) {
		return nil
	}
	_ = p.Signal(syscall.SIGKILL)
	_, _ = p.Wait()
	return errors.New("exec process: seccomp filter not loaded")
}
