package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/sys/signal"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// ContainerStart implements api.ContainerBackend. A start that fails
// leaves the container exited with Docker's code (127 not found, 126 not
// executable, 128 otherwise) and the error in State.Error.
func (d *Daemon) ContainerStart(ctx context.Context, name string) error {
	c, unlock, err := d.lockedContainer(name)
	if err != nil {
		return err
	}
	defer unlock()
	switch c.State.Status {
	case container.StateRunning:
		return errdefs.NotModified(errors.New("container already started"))
	case container.StatePaused:
		return errdefs.Errorf(errdefs.Conflict, "cannot start a paused container, try unpause instead")
	case container.StateRemoving, container.StateDead:
		return errdefs.Errorf(errdefs.Conflict, "container is marked for removal and cannot be started")
	}
	if c.RestartCount != 0 { // a user's start resets the count, as in Docker
		if c, err = d.containers.Update(c.ID, func(c *ctr.Container) error { c.RestartCount = 0; return nil }); err != nil {
			return err
		}
	}
	return d.start(context.WithoutCancel(ctx), c)
}

// start runs c; the caller holds the container lock. Processes never
// depend on the request's context.
func (d *Daemon) start(ctx context.Context, c *ctr.Container) (err error) {
	defer func() {
		if err != nil {
			d.recordStartFailure(ctx, c, err)
		}
	}()
	// The shim process starts while the network and the spec are set up.
	d.runtime.Prepare(ctx, c.ID)
	defer d.runtime.Release(c.ID)
	nc, err := d.connectNetwork(ctx, c)
	if err != nil {
		return err
	}
	c = nc
	defer func() {
		if err != nil {
			c = d.disconnectNetwork(ctx, c)
		}
	}()
	spec, err := d.containerSpec(ctx, c)
	if err != nil {
		return err
	}
	_ = d.runtime.Delete(ctx, c.ID) // a stopped previous run
	io := runtime.IOOpt{Tty: c.Config.Tty, OpenStdin: c.Config.OpenStdin, LogPath: c.LogPath}
	io.LogMaxSize, io.LogMaxFiles = logRotation(c.HostConfig.LogConfig.Config)
	if err := d.runtime.Create(ctx, c.ID, spec, io); err != nil {
		return err
	}
	d.gate(c.ID).open(ctx)
	d.gates.Delete(c.ID)
	pid, err := d.runtime.Start(ctx, c.ID)
	if err != nil {
		_ = d.runtime.Delete(ctx, c.ID)
		return err
	}
	c, err = d.containers.Update(c.ID, func(c *ctr.Container) error {
		c.State.SetRunning(pid, time.Now().UTC())
		c.ManualStop = false
		return nil
	})
	if err != nil {
		return err
	}
	d.containerEvent(c, "start", nil)
	go d.monitor(c.ID)
	d.startHealthcheck(c)
	return nil
}

func (d *Daemon) recordStartFailure(ctx context.Context, c *ctr.Container, err error) {
	if g, ok := d.gates.LoadAndDelete(c.ID); ok {
		close(g.(*attachGate).created) // wake attachers: they find it exited
	}
	code := 128
	switch msg := err.Error(); {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		code = 127
	case strings.Contains(msg, "permission denied"):
		code = 126
	}
	_, uerr := d.containers.Update(c.ID, func(c *ctr.Container) error {
		c.State.SetFailed(code, err, time.Now().UTC())
		return nil
	})
	logErr(ctx, uerr, "record start failure")
	d.unmountRootfs(ctx, c)
	if c.HostConfig.AutoRemove {
		go func() { logErr(ctx, d.remove(ctx, c), "auto-remove container") }() // the caller holds the lock
	}
}

// monitor waits for the container's process to end and records the exit;
// it also runs after a daemon restart for re-adopted containers.
func (d *Daemon) monitor(id string) {
	ctx := d.rootCtx
	d.watchOOM(id)
	st, err := d.runtime.Wait(ctx, id)
	if ctx.Err() != nil {
		return // daemon shutting down: the shim keeps the container
	}
	if err != nil {
		st.ExitCode, st.Error = 255, err.Error()
	}
	d.recordExit(ctx, id, st)
}

func (d *Daemon) recordExit(ctx context.Context, id string, st runtime.ExitStatus) {
	c, ok := d.updateExit(ctx, id, st)
	if ok && c.HostConfig.AutoRemove {
		logErr(ctx, d.remove(ctx, c), "auto-remove container")
	}
}

// updateExit records the exit under the container lock.
func (d *Daemon) updateExit(ctx context.Context, id string, st runtime.ExitStatus) (*ctr.Container, bool) {
	unlock := d.lockContainer(id)
	defer unlock()
	at := st.FinishedAt
	if at.IsZero() {
		at = time.Now().UTC()
	}
	var delay time.Duration
	var restart, wasOOM bool
	if cur, err := d.containers.Get(id); err == nil {
		// dockerd's order, before stop or wait see the exit: oom, die,
		// then the network disconnect; ports are free once it is visible.
		if st.OOMKilled && !cur.State.OOMKilled {
			d.containerEvent(cur, "oom", nil)
		}
		d.containerEvent(cur, "die", map[string]string{"exitCode": itoa(int64(st.ExitCode))})
		d.releaseEndpoints(ctx, cur)
	}
	c, err := d.containers.Update(id, func(c *ctr.Container) error {
		clearNetwork(c)
		ranFor := at.Sub(c.State.StartedAt)
		wasOOM = c.State.OOMKilled // reported while it ran (watchOOM)
		c.State.SetExited(st.ExitCode, st.OOMKilled || wasOOM, at)
		if st.Error != "" {
			c.State.Error = st.Error
		}
		delay, restart = d.markRestarting(c, ranFor)
		return nil
	})
	if err != nil {
		logErr(ctx, err, "record container exit")
		return nil, false
	}
	d.unmountRootfs(ctx, c)
	if restart {
		d.scheduleRestart(id, delay)
		return c, false
	}
	return c, true
}

// signalForExit sends sig and returns the channel that reports the
// container no longer running; the wait starts first, so the exit cannot
// slip between the two. A signal that fails because the container has
// just exited is no error.
func (d *Daemon) signalForExit(ctx context.Context, c *ctr.Container, sig syscall.Signal) (<-chan ctr.WaitResult, error) {
	waitCh, err := d.containers.Wait(ctx, c.ID, ctr.WaitNotRunning)
	if err != nil {
		return nil, err
	}
	if err := d.signal(ctx, c, sig); err != nil && !d.exited(ctx, c.ID) {
		return nil, err
	}
	return waitCh, nil
}

// ContainerStop implements api.ContainerBackend: the stop signal, then
// SIGKILL after the timeout.
func (d *Daemon) ContainerStop(ctx context.Context, name string, opt api.StopOptions) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	if d.cancelRestart(c.ID) {
		d.containerEvent(c, "stop", nil)
		return nil
	}
	if c, err = d.containers.Get(c.ID); err != nil { // a restart may have just run it
		return err
	}
	if !c.State.Running() {
		return errdefs.NotModified(errors.New("container already stopped"))
	}
	if _, err := d.containers.Update(c.ID, func(c *ctr.Container) error { c.ManualStop = true; return nil }); err != nil {
		return err
	}
	if err := d.stop(context.WithoutCancel(ctx), c, opt); err != nil {
		return err
	}
	d.containerEvent(c, "stop", nil)
	return nil
}

func (d *Daemon) stop(ctx context.Context, c *ctr.Container, opt api.StopOptions) error {
	sig, err := stopSignal(c, opt.Signal)
	if err != nil {
		return err
	}
	// restart and rm -f stop too: no restart policy may undo them
	if _, err := d.containers.Update(c.ID, func(c *ctr.Container) error { c.ManualStop = true; return nil }); err != nil {
		return err
	}
	timeout := 10
	if c.Config.StopTimeout != nil {
		timeout = *c.Config.StopTimeout
	}
	if opt.Timeout != nil {
		timeout = *opt.Timeout
	}
	waitCh, err := d.signalForExit(ctx, c, sig)
	if err != nil {
		return err
	}
	var expired <-chan time.Time
	if timeout >= 0 && sig != syscall.SIGKILL {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-waitCh:
		return nil
	case <-expired:
	}
	if err := d.signal(ctx, c, syscall.SIGKILL); err != nil && !d.exited(ctx, c.ID) {
		return exitedSoon(waitCh, err)
	}
	r := <-waitCh
	return r.Err
}

// exitedSoon tolerates a kill that raced with the exit: the process is gone
// but its exit (network teardown included) is still being recorded.
func exitedSoon(waitCh <-chan ctr.WaitResult, err error) error {
	select {
	case r := <-waitCh:
		return r.Err
	case <-time.After(5 * time.Second):
		return err
	}
}

// exited reports whether the container's process is gone: a signal that
// raced with the exit is not an error for stop.
func (d *Daemon) exited(ctx context.Context, id string) bool {
	st, err := d.runtime.State(ctx, id)
	return errdefs.IsNotFound(err) || (err == nil && !st.Running)
}

func stopSignal(c *ctr.Container, override string) (syscall.Signal, error) {
	s := override
	if s == "" {
		s = c.Config.StopSignal
	}
	if s == "" {
		return syscall.SIGTERM, nil
	}
	return parseSignal(s)
}

func parseSignal(s string) (syscall.Signal, error) {
	sig, err := signal.ParseSignal(s)
	if err != nil {
		return 0, errdefs.InvalidParameter(err)
	}
	return sig, nil
}

// signal delivers sig with a kill event, as Docker reports it.
func (d *Daemon) signal(ctx context.Context, c *ctr.Container, sig syscall.Signal) error {
	if err := d.runtime.Signal(ctx, c.ID, sig); err != nil {
		return err
	}
	d.resumeForSignal(ctx, c, sig)
	d.containerEvent(c, "kill", map[string]string{"signal": itoa(int64(sig))})
	return nil
}

// ContainerKill implements api.ContainerBackend.
func (d *Daemon) ContainerKill(ctx context.Context, name, sigName string) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if sigName != "" {
		if sig, err = parseSignal(sigName); err != nil {
			return err
		}
	}
	if !c.State.Running() {
		return errdefs.Errorf(errdefs.Conflict, "Cannot kill container: %s: container %s is not running", name, c.ID)
	}
	ctx = context.WithoutCancel(ctx)
	if sig != syscall.SIGKILL {
		return d.signal(ctx, c, sig)
	}
	// As dockerd: a SIGKILL returns once the container has stopped, so a
	// following rm or exec sees it stopped.
	waitCh, err := d.signalForExit(ctx, c, sig)
	if err != nil {
		return err
	}
	select {
	case r := <-waitCh:
		return r.Err
	case <-time.After(10 * time.Second):
		return nil // it is on its way; dockerd would wait longer
	}
}

// ContainerRestart implements api.ContainerBackend.
func (d *Daemon) ContainerRestart(ctx context.Context, name string, opt api.StopOptions) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if c.State.Running() {
		if err := d.stop(ctx, c, opt); err != nil {
			return err
		}
	}
	unlock := d.lockContainer(c.ID)
	defer unlock()
	if c, err = d.containers.Get(c.ID); err != nil {
		return err
	}
	if err := d.start(ctx, c); err != nil {
		return err
	}
	d.containerEvent(c, "restart", nil)
	return nil
}

// ContainerWait implements api.ContainerBackend.
func (d *Daemon) ContainerWait(ctx context.Context, name, condition string) (<-chan api.WaitResult, error) {
	cond := ctr.WaitCondition(condition)
	if cond == "" {
		cond = ctr.WaitNotRunning
	}
	ch, err := d.containers.Wait(ctx, name, cond)
	if err != nil {
		return nil, err
	}
	out := make(chan api.WaitResult, 1)
	go func() {
		r := <-ch
		res := api.WaitResult{StatusCode: r.State.ExitCode, Error: r.State.Error}
		if r.Err != nil && ctx.Err() == nil {
			res.Error = r.Err.Error()
		}
		out <- res
	}()
	return out, nil
}

// ContainerResize implements api.ContainerBackend.
func (d *Daemon) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	if !c.State.Running() {
		return errdefs.Errorf(errdefs.Conflict, "Container %s is not running", c.ID)
	}
	if err := d.runtime.Resize(ctx, c.ID, "", height, width); err != nil {
		return err
	}
	d.containerEvent(c, "resize", map[string]string{"height": itoa(int64(height)), "width": itoa(int64(width))})
	return nil
}

// ContainerRemove implements api.ContainerBackend.
func (d *Daemon) ContainerRemove(ctx context.Context, name string, opt api.RemoveOptions) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if c.State.Running() {
		if !opt.Force {
			return errdefs.Errorf(errdefs.Conflict, "cannot remove container %q: container is running: stop the container before removing or force remove", "/"+c.Name)
		}
		if err := d.stop(ctx, c, api.StopOptions{Signal: "SIGKILL", Timeout: new(int)}); err != nil {
			return err
		}
	}
	return d.removeWith(ctx, c, opt.RemoveVolumes)
}

// remove deletes a stopped container: runtime state, layer, record; a
// --rm container's anonymous volumes go with it, as in Docker.
func (d *Daemon) remove(ctx context.Context, c *ctr.Container) error {
	return d.removeWith(ctx, c, c.HostConfig.AutoRemove)
}

// removeWith is remove; removeVolumes also removes the container's
// anonymous volumes (docker rm -v).
func (d *Daemon) removeWith(ctx context.Context, c *ctr.Container, removeVolumes bool) error {
	unlock := d.lockContainer(c.ID)
	defer unlock()
	if err := d.runtime.Delete(ctx, c.ID); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", c.ID, err)
	}
	d.unmountRootfs(ctx, c)
	d.disconnectNetwork(ctx, c)
	if err := d.images.RemoveLayer(ctx, c.LayerID); err != nil && !errdefs.IsNotFound(err) {
		log.G(ctx).WithError(err).WithField("container", c.ID).Warn("remove container layer")
	}
	// volumes first: a client waiting for "removed" then finds them gone too
	d.releaseVolumes(ctx, c, removeVolumes)
	if err := d.containers.Delete(c.ID); err != nil {
		d.refVolumes(ctx, c) // the record stays: so do its references
		return err
	}
	d.dropExecs(c.ID)
	d.containerEvent(c, "destroy", nil)
	return nil
}
