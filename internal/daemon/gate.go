package daemon

import (
	"context"
	"sync"
	"time"
)

// attachGate lets clients that attach to a created container (docker run,
// docker start -a) connect to the container's stdio after the runtime
// created it and before its process starts, so no output is missed.
type attachGate struct {
	mu      sync.Mutex
	pending int
	closed  bool
	created chan struct{} // closed once the runtime created the container
	ready   chan struct{} // one token per joined attacher
}

func (d *Daemon) gate(id string) *attachGate {
	g, _ := d.gates.LoadOrStore(id, &attachGate{created: make(chan struct{}), ready: make(chan struct{}, 64)})
	return g.(*attachGate)
}

// join registers an attacher; false when the start already went past.
func (g *attachGate) join() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.pending == cap(g.ready) {
		return false
	}
	g.pending++
	return true
}

// done reports a joined attacher as connected (or gone); call it once.
func (g *attachGate) done() { g.ready <- struct{}{} }

// open is called by start after the runtime created the container: it lets
// the joined attachers connect and waits (bounded) until they have.
func (g *attachGate) open(ctx context.Context) {
	g.mu.Lock()
	g.closed = true
	n := g.pending
	g.mu.Unlock()
	close(g.created)
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for i := 0; i < n; i++ {
		select {
		case <-g.ready:
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
