package osthread

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestDiscardNeverUsesTheMainThread(t *testing.T) {
	for range 200 {
		var tid int
		Discard(func() { tid = unix.Gettid() })
		if tid == unix.Getpid() {
			t.Fatal("fn ran on the main thread, which the runtime never discards")
		}
	}
}
