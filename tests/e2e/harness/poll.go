package harness

import (
	"testing"
	"time"
)

// Poll calls cond every 50 ms until it reports true, and fails t when
// timeout passes first, naming what it waited for and cond's last report.
// Tests wait with Poll, never with fixed sleeps.
func Poll(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %q", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
