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
	"sync"
	"syscall"
	"time"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Runtime runs containers under per-container shims. It keeps no state in
// memory (but shims that Prepare started for Create): everything lives in
// the shims and the files under Opt.StateRoot, so several Runtime values (or
// a restarted daemon) see the same containers. Runtime is safe for
// concurrent use.
type Runtime struct {
	opt      Opt
	sealOnce sync.Once
	sealed   *os.File // see sealedExecutable
	prepared sync.Map // container id -> *preparedShim
}

// Files in a container's state directory.
const (
	configFile  = "config.json"
	exitFile    = "exit.json"
	startedFile = "started.json"
	shimLogFile = "shim.log"
	defaultLog  = "container.log"
	sockName    = "shim.sock"
)

// maxSockPath is the longest unix socket path Linux accepts (sun_path).
const maxSockPath = 107

// New checks opt and creates its directories.
func New(opt Opt) (*Runtime, error) {
	if opt.RunRoot == "" || opt.StateRoot == "" {
		return nil, errors.New("runtime: RunRoot and StateRoot are required")
	}
	if opt.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("resolve executable: %w", err)
		}
		opt.Executable = exe
	}
	for _, d := range []string{opt.RunRoot, opt.StateRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create runtime dir: %w", err)
		}
	}
	return &Runtime{opt: opt}, nil
}

func (r *Runtime) stateDir(id string) string { return filepath.Join(r.opt.StateRoot, id) }

// runDir is keyed by a 16-character prefix of the id: the shim's socket
// lives there and a unix socket path may not exceed 107 bytes.
func (r *Runtime) runDir(id string) string {
	return filepath.Join(r.opt.RunRoot, id[:min(len(id), 16)])
}
func (r *Runtime) sockPath(id string) string { return filepath.Join(r.runDir(id), sockName) }

// exists reports a NotFound error for an unknown container.
func (r *Runtime) exists(id string) error {
	if id == "" || filepath.Base(id) != id {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid container id %q", id)
	}
	if _, err := os.Stat(filepath.Join(r.stateDir(id), configFile)); err != nil {
		return errdefs.Errorf(errdefs.NotFound, "No such container: %s", id)
	}
	return nil
}

// dial connects to a container's shim and sends req. The caller owns the
// returned connection; the ctx only bounds the dial and the first reply.
func (r *Runtime) dial(ctx context.Context, id string, req request) (*net.UnixConn, *bufio.Reader, response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", r.sockPath(id))
	if err != nil {
		return nil, nil, response{}, errShimGone
	}
	conn := c.(*net.UnixConn)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	br := bufio.NewReader(conn)
	var resp response
	if err := writeJSONLine(conn, req); err != nil {
		conn.Close()
		if shimClosed(ctx, err) {
			return nil, nil, resp, errShimGone
		}
		return nil, nil, resp, fmt.Errorf("send %s to shim: %w", req.Op, ctxErr(ctx, err))
	}
	if err := readJSONLine(br, &resp); err != nil {
		conn.Close()
		if shimClosed(ctx, err) {
			return nil, nil, resp, errShimGone
		}
		return nil, nil, resp, fmt.Errorf("read %s reply from shim: %w", req.Op, ctxErr(ctx, err))
	}
	if resp.Err != "" {
		conn.Close()
		return nil, nil, resp, shimError(resp.Err)
	}
	return conn, br, resp, nil
}

// shimClosed reports an error from a shim that closed its socket between
// our dial and its accept: the container has just stopped.
func shimClosed(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}

// call is a request with a one-line reply.
func (r *Runtime) call(ctx context.Context, id string, req request) (response, error) {
	if err := r.exists(id); err != nil {
		return response{}, err
	}
	conn, _, resp, err := r.dial(ctx, id, req)
	if err != nil {
		return resp, err
	}
	conn.Close()
	return resp, nil
}

// errShimGone means the shim's socket does not answer: the container has
// stopped (its files say how) or the shim died.
var errShimGone = errdefs.Conflict(errors.New("container is not running"))

// shimError restores the class of an error the shim reported.
func shimError(msg string) error {
	if msg == errNotRunningMsg || msg == errExecNotRunningMsg {
		return errdefs.Conflict(errors.New(msg))
	}
	return errors.New(msg)
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Start runs the created container's process and returns its pid.
func (r *Runtime) Start(ctx context.Context, id string) (int, error) {
	resp, err := r.call(ctx, id, request{Op: opStart})
	if err != nil {
		return 0, fmt.Errorf("start container %s: %w", id, err)
	}
	return resp.Pid, nil
}

// Signal sends sig to the container's init process. A stopped container
// gives a Conflict error.
func (r *Runtime) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	_, err := r.call(ctx, id, request{Op: opSignal, Signal: int(sig)})
	if err != nil {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	return nil
}

// Resize changes the pty size of the container (execID "") or of an exec.
func (r *Runtime) Resize(ctx context.Context, id, execID string, height, width uint) error {
	_, err := r.call(ctx, id, request{Op: opResize, ExecID: execID, Height: height, Width: width})
	if err != nil {
		return fmt.Errorf("resize container %s: %w", id, err)
	}
	return nil
}

// Wait blocks until the container stops and returns how it ended. It
// returns at once for a stopped container.
func (r *Runtime) Wait(ctx context.Context, id string) (ExitStatus, error) {
	if err := r.exists(id); err != nil {
		return ExitStatus{}, err
	}
	conn, br, _, err := r.dial(ctx, id, request{Op: opWait})
	if errors.Is(err, errShimGone) {
		return r.exitFromFile(id), nil
	}
	if err != nil {
		return ExitStatus{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var resp response
	if err := readJSONLine(br, &resp); err != nil || resp.Exit == nil {
		if ctx.Err() != nil {
			return ExitStatus{}, ctx.Err()
		}
		// The shim wrote the exit file before closing; read it.
		return r.exitFromFile(id), nil
	}
	return *resp.Exit, nil
}

// State reports the container's state.
func (r *Runtime) State(ctx context.Context, id string) (State, error) {
	resp, err := r.call(ctx, id, request{Op: opState})
	if errors.Is(err, errShimGone) {
		ex := r.exitFromFile(id)
		st := State{Status: StatusStopped, Exit: &ex}
		st.StartedAt = r.started(id).StartedAt
		return st, nil
	}
	if err != nil {
		return State{}, err
	}
	return *resp.State, nil
}

// exitFromFile reads the exit status the shim recorded; a missing file
// means the shim died without recording one.
func (r *Runtime) exitFromFile(id string) ExitStatus {
	var ex ExitStatus
	b, err := os.ReadFile(filepath.Join(r.stateDir(id), exitFile))
	if err == nil && json.Unmarshal(b, &ex) == nil {
		return ex
	}
	return ExitStatus{ExitCode: 255, Error: "shim exited without recording the container's exit status"}
}

// startedRecord is what the shim writes to startedFile when the process runs.
type startedRecord struct {
	Pid       int       `json:"pid"`
	StartedAt time.Time `json:"startedAt"`
}

func (r *Runtime) started(id string) (t startedRecord) {
	b, err := os.ReadFile(filepath.Join(r.stateDir(id), startedFile))
	if err == nil {
		_ = json.Unmarshal(b, &t)
	}
	return t
}
