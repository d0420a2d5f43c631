// Package osthread runs code that changes its OS thread's namespaces on a
// thread the Go runtime then throws away, so no other goroutine ever runs
// in a namespace it did not ask for.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Discard runs fn on a goroutine locked to its OS thread and lets the
// goroutine end locked: the runtime then terminates the thread with
// whatever namespace fn left it in. The main thread is never terminated
// (the runtime parks it forever, keeping its namespaces alive), so fn
// never runs there: the main thread stays held while another runs fn.
// Discard returns when fn has.
func Discard(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			Discard(fn)
			runtime.UnlockOSThread()
			return
		}
		fn()
	}()
	<-done
}
