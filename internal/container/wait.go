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

// Wait blocks until the container meets cond and returns its state then.
// It returns ctx's error if ctx ends first. For WaitRemoved the returned
// state is the last one before removal.
func (s *Store) Wait(ctx context.Context, ref string, cond WaitCondition) (State, error) {
	s.mu.RLock()
	e, err := s.lookup(ref)
	if err != nil {
		s.mu.RUnlock()
		return State{}, err
	}
	startExits := e.c.State.Exits
	s.mu.RUnlock()
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
