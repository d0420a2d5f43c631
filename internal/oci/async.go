package oci

import (
	"io"
	"sync"
)

// asyncChunk is the unit an asyncWriter hands to its goroutine.
const asyncChunk = 1 << 20

// asyncWriter moves writes (file writes, hashing) off the caller's
// goroutine, so download, verification and unpacking overlap on several
// cores. Memory is bounded by a small pool of chunks.
type asyncWriter struct {
	dst   io.Writer
	ch    chan []byte
	free  chan []byte
	cur   []byte
	done  chan struct{}
	mu    sync.Mutex
	err   error
	close sync.Once
}

func newAsyncWriter(dst io.Writer) *asyncWriter {
	const pool = 4
	a := &asyncWriter{dst: dst, ch: make(chan []byte, pool), free: make(chan []byte, pool), done: make(chan struct{})}
	for i := 0; i < pool; i++ {
		a.free <- make([]byte, 0, asyncChunk)
	}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for buf := range a.ch {
		if a.failed() == nil {
			if _, err := a.dst.Write(buf); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
		}
		a.free <- buf[:0]
	}
}

func (a *asyncWriter) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write copies p into chunks queued for the goroutine.
func (a *asyncWriter) Write(p []byte) (int, error) {
	if err := a.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = <-a.free
		}
		k := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur, p = a.cur[:len(a.cur)+k], p[k:]
		if len(a.cur) == cap(a.cur) {
			a.ch <- a.cur
			a.cur = nil
		}
	}
	return n, nil
}

// Close flushes, waits for the goroutine and returns its first error. It
// is safe to call more than once.
func (a *asyncWriter) Close() error {
	a.close.Do(func() {
		if len(a.cur) > 0 {
			a.ch <- a.cur
		}
		a.cur = nil
		close(a.ch)
		<-a.done
	})
	return a.failed()
}
