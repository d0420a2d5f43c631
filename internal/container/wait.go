package container

import (
	"context"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// WaitCondition is Docker's ?condition= of POST /containers/{id}/wait.
type WaitCondition string

// The wait conditions.
const (
	WaitNotRunning WaitCondition = "not-running"
	WaitNextExit   WaitCondition = "next-exit"
	WaitRemoved    WaitCondition = "removed"
)

// WaitResult is the state a wait ended on, or why it could not end.
type WaitResult struct {
	State State
	Err   error
}

// Wait takes the container's current state as its baseline now, then waits
// in the background until the container meets cond (or ctx ends) and sends
// one result. Taking the baseline before returning matters: docker run
// calls wait with next-exit before it starts the container.
func (s *Store) Wait(ctx context.Context, ref string, cond WaitCondition) (<-chan WaitResult, error) {
	s.mu.RLock()
	e, err := s.lookup(ref)
	if err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	startExits := e.c.State.Exits
	s.mu.RUnlock()
	ch := make(chan WaitResult, 1)
	go func() {
		st, err := s.waitEntry(ctx, e, ref, cond, startExits)
		ch <- WaitResult{State: st, Err: err}
	}()
	return ch, nil
}

func (s *Store) waitEntry(ctx context.Context, e *entry, ref string, cond WaitCondition, startExits int) (State, error) {
	for {
		s.mu.RLock()
		st, removed, changed := e.c.State, e.removed, e.changed
		s.mu.RUnlock()
		if met(cond, st, removed, startExits) {
			return st, nil
		}
		if removed {
			return st, errdefs.Errorf(errdefs.NotFound, "No such container: %s", ref)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-changed:
		}
	}
}

func met(cond WaitCondition, st State, removed bool, startExits int) bool {
	switch cond {
	case WaitRemoved:
		return removed
	case WaitNextExit:
		return st.Exits > startExits
	default:
		return !st.Running() && st.Status != "restarting"
	}
}
