package daemon

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// ContainerPause implements api.ContainerBackend: the freezer cgroup when
// the container has one. Without it every process of the container's pid namespace gets SIGSTOP; processes
// forked while that happens are caught by listing again until all are
// stopped.
func (d *Daemon) ContainerPause(ctx context.Context, name string) error {
	c, unlock, err := d.lockedContainer(name)
	if err != nil {
		return err
	}
	defer unlock()
	switch c.State.Status {
	case container.StatePaused:
		return errdefs.Errorf(errdefs.Conflict, "container %s is already paused", c.ID)
	case container.StateRunning:
	default:
		return errdefs.Errorf(errdefs.Conflict, "container %s is not running", c.ID)
	}
	if err := d.freeze(ctx, c.ID); err != nil {
		_ = d.thaw(ctx, c.ID)
		return fmt.Errorf("cannot pause container %s: %w", c.ID, err)
	}
	return d.setPaused(c.ID, true, "pause")
}

// ContainerUnpause implements api.ContainerBackend.
func (d *Daemon) ContainerUnpause(ctx context.Context, name string) error {
	c, unlock, err := d.lockedContainer(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.State.Status != container.StatePaused {
		return errdefs.Errorf(errdefs.Conflict, "container %s is not paused", c.ID)
	}
	if err := d.thaw(ctx, c.ID); err != nil {
		return fmt.Errorf("cannot unpause container %s: %w", c.ID, err)
	}
	return d.setPaused(c.ID, false, "unpause")
}

// setPaused records the state and publishes the event.
func (d *Daemon) setPaused(id string, paused bool, action string) error {
	c, err := d.containers.Update(id, func(c *ctr.Container) error {
		if !c.State.Running() {
			return errdefs.Errorf(errdefs.Conflict, "container %s is not running", id)
		}
		c.State.Status = container.StateRunning
		if paused {
			c.State.Status = container.StatePaused
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.containerEvent(c, action, nil)
	return nil
}

// stopProcesses sends SIGSTOP until every process of the container is
// stopped. A signal takes effect when its target is next scheduled, so the
// rounds are a few milliseconds apart; they give up after about 5s.
func (d *Daemon) stopProcesses(ctx context.Context, id string) error {
	for round := range 500 {
		if round > 0 && !sleep(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
		pids, err := d.runtime.Pids(ctx, id)
		if err != nil {
			return err
		}
		running := 0
		for _, pid := range pids {
			if st, err := readProcStat(pid); err == nil && st.state != 'T' && st.state != 'Z' && st.state != 'X' {
				running++
				if err := unix.Kill(pid, unix.SIGSTOP); err != nil && !errors.Is(err, unix.ESRCH) {
					return fmt.Errorf("signal pid %d: %w", pid, err)
				}
			}
		}
		if running == 0 {
			return nil
		}
	}
	return errors.New("processes keep running: they fork faster than they stop")
}

const sigCont = unix.SIGCONT

// signalAll sends sig to every process of the container.
func (d *Daemon) signalAll(ctx context.Context, id string, sig syscall.Signal) error {
	pids, err := d.runtime.Pids(ctx, id)
	if err != nil {
		return err
	}
	var first error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) && first == nil {
			first = fmt.Errorf("signal pid %d: %w", pid, err)
		}
	}
	return first
}

// resumeIfPaused continues a paused container's processes so that a stop
// or kill signal can take effect; the container counts as running again.
func (d *Daemon) resumeIfPaused(ctx context.Context, id string) {
	c, err := d.containers.Get(id)
	if err != nil || c.State.Status != container.StatePaused {
		return
	}
	logErr(ctx, d.thaw(ctx, id), "resume paused container")
	_, err = d.containers.Update(id, func(c *ctr.Container) error {
		if c.State.Status == container.StatePaused {
			c.State.Status = container.StateRunning
		}
		return nil
	})
	logErr(ctx, err, "record resumed container")
}

// resumeForSignal resumes a paused container after a signal meant to end
// it (SIGKILL or its stop signal) so the signal takes effect, as Docker
// does; other signals stay pending while it is paused.
func (d *Daemon) resumeForSignal(ctx context.Context, c *ctr.Container, sig syscall.Signal) {
	if stop, err := stopSignal(c, ""); sig == unix.SIGKILL || (err == nil && sig == stop) {
		d.resumeIfPaused(ctx, c.ID)
	}
}
