package daemon

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/logs"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// ContainerAttach implements api.ContainerBackend: it validates, opens the
// client's streams, replays the log when asked, then streams live stdio
// until the container stops or the client leaves.
func (d *Daemon) ContainerAttach(ctx context.Context, name string, opt api.AttachOptions) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatePaused {
		return errdefs.Errorf(errdefs.Conflict, "You cannot attach to a paused container, unpause it first")
	}
	if opt.Stream && !opt.Logs && !c.State.Running() && c.State.Status != container.StateCreated {
		return errdefs.Errorf(errdefs.Conflict, "You cannot attach to a stopped container, start it first")
	}
	s, err := opt.Open(c.Config.Tty)
	if err != nil {
		return err
	}
	defer s.CloseWrite()
	if opt.Logs {
		d.replayLogs(ctx, c, opt, s)
	}
	if !opt.Stream {
		return nil
	}
	d.containerEvent(c, "attach", nil)
	ao := runtime.AttachOpt{CloseStdin: c.Config.StdinOnce}
	if c.State.Status == container.StateCreated { // docker run: attach comes before start
		g := d.gate(c.ID)
		if g.join() {
			var once sync.Once
			ao.Ready = func() { once.Do(g.done) }
			defer ao.Ready()
			created := g.created
			if now, err := d.containers.Get(c.ID); err != nil || now.State.Status != container.StateCreated {
				ao.Ready() // the start went past before we joined
				created = closedChan
			}
			select {
			case <-created:
			case <-ctx.Done():
				return nil
			}
		}
	}
	if opt.Stdin {
		ao.Stdin = s.Stdin
	}
	if opt.Stdout {
		ao.Stdout = s.Stdout
	}
	if opt.Stderr {
		ao.Stderr = s.Stderr
	}
	var detach detachWatch
	if ao.Stdin != nil {
		detach.r, ao.Stdin = ao.Stdin, &detach
	}
	logErr(ctx, d.runtime.Attach(ctx, c.ID, ao), "attach")
	if detach.seen.Load() {
		d.containerEvent(c, "detach", nil)
	}
	return nil
}

func (d *Daemon) replayLogs(ctx context.Context, c *ctr.Container, opt api.AttachOptions, s *api.Streams) {
	done := make(chan struct{})
	close(done)
	msgs, _ := logs.Read(ctx, c.LogPath, logs.ReadOpt{Tail: -1, Stdout: opt.Stdout, Stderr: opt.Stderr}, done)
	for m := range msgs {
		w := s.Stdout
		if m.Stream == "stderr" {
			w = s.Stderr
		}
		if _, err := w.Write(m.Line); err != nil {
			return
		}
	}
}

// ContainerLogs implements api.ContainerBackend.
func (d *Daemon) ContainerLogs(ctx context.Context, name string, opt api.LogsOptions) (<-chan api.LogMessage, bool, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, false, err
	}
	done, err := d.stopped(ctx, c)
	if err != nil {
		return nil, false, err
	}
	msgs, errs := logs.Read(ctx, c.LogPath, logs.ReadOpt{Tail: opt.Tail, Since: opt.Since, Until: opt.Until,
		Follow: opt.Follow, Stdout: opt.Stdout, Stderr: opt.Stderr}, done)
	out := make(chan api.LogMessage, 16)
	go func() {
		defer close(out)
		for m := range msgs {
			out <- api.LogMessage{Stream: m.Stream, Line: m.Line, Time: m.Time}
		}
		if err := <-errs; err != nil {
			out <- api.LogMessage{Err: err}
		}
	}()
	return out, c.Config.Tty, nil
}

// stopped returns a channel closed once the container is not running.
func (d *Daemon) stopped(ctx context.Context, c *ctr.Container) (<-chan struct{}, error) {
	done := make(chan struct{})
	if !c.State.Running() && c.State.Status != container.StateRestarting {
		close(done)
		return done, nil
	}
	ch, err := d.containers.Wait(ctx, c.ID, ctr.WaitNotRunning)
	if err != nil {
		return nil, err
	}
	go func() { <-ch; close(done) }()
	return done, nil
}

// detachWatch notes that the client detached (typed the detach keys).
type detachWatch struct {
	r    io.Reader
	seen atomic.Bool
}

func (w *detachWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if errors.Is(err, api.ErrDetached) {
		w.seen.Store(true)
	}
	return n, err
}
