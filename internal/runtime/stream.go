package runtime

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Attach streams the container's live output to opt's writers and opt.Stdin
// to its stdin until the container stops or ctx ends. Earlier output is in
// the log, not replayed here. Attaching to a stopped container gives a
// Conflict error.
func (r *Runtime) Attach(ctx context.Context, id string, opt AttachOpt) error {
	if err := r.exists(id); err != nil {
		return err
	}
	req := request{Op: opAttach, Stdin: opt.Stdin != nil, Stdout: opt.Stdout != nil,
		Stderr: opt.Stderr != nil, CloseStdin: opt.CloseStdin}
	conn, br, _, err := r.dial(ctx, id, req)
	if err != nil {
		return fmt.Errorf("attach container %s: %w", id, err)
	}
	if opt.Ready != nil {
		opt.Ready()
	}
	_, err = stream(ctx, conn, br, opt.Stdin, opt.Stdout, opt.Stderr)
	return err
}

// Exec starts p in the running container and blocks until it ends,
// streaming its stdio. ctx ending only detaches: the process keeps running.
func (r *Runtime) Exec(ctx context.Context, id, execID string, p *specs.Process, opt ExecOpt) (ExitStatus, error) {
	if err := r.exists(id); err != nil {
		return ExitStatus{}, err
	}
	pc := *p
	pc.Terminal = opt.Tty
	req := request{Op: opExec, ExecID: execID, Process: &pc, Stdin: opt.Stdin != nil,
		Stdout: opt.Stdout != nil, Stderr: opt.Stderr != nil, CloseStdin: true}
	conn, br, resp, err := r.dial(ctx, id, req)
	if err != nil {
		return ExitStatus{}, fmt.Errorf("exec in container %s: %w", id, err)
	}
	if opt.Started != nil {
		opt.Started(resp.Pid)
	}
	ex, err := stream(ctx, conn, br, opt.Stdin, opt.Stdout, opt.Stderr)
	if err != nil {
		return ExitStatus{}, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return *ex, nil
}

// stream pumps stdin into conn and demultiplexes frames from it until the
// exit frame. It owns conn.
func stream(ctx context.Context, conn *net.UnixConn, br *bufio.Reader, stdin io.Reader, stdout, stderr io.Writer) (*ExitStatus, error) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if stdin != nil {
		go func() {
			// A clean end of stdin is a half-close; an error (the client
			// detached or went away) closes the connection, which the shim
			// tells apart and then leaves the container's stdin open.
			if _, err := io.Copy(conn, stdin); err != nil {
				_ = conn.Close()
				return
			}
			_ = conn.CloseWrite()
		}()
	} else {
		_ = conn.CloseWrite()
	}
	ex, err := readFrames(br, stdout, stderr)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	return ex, nil
}
