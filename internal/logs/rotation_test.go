package logs

import (
	"testing"
)

// parkedReader starts a follower on a log whose live file holds more lines
// than the message buffer. Once the first line is received the reader has
// opened the file, and it stays parked sending the last line until the
// test receives again, so whatever the test writes in between is seen in
// one go by the reader's next lookup. finish closes done and returns the
// remaining lines ("pre 1" ... "pre <msgBuffer+1>" come first). The log
// keeps one line per file afterwards.
func parkedReader(t *testing.T, maxFiles int, cfg waitConfig) (*testLog, func() []string) {
	l := newTestLog(t, 0, maxFiles)
	l.lines("pre", 0, msgBuffer+2)
	done := make(chan struct{})
	msgs, errs := read(testCtx(t), l.path, followOpt(-1), done, cfg)
	equal(t, recvN(t, msgs, 1), numbered("pre", 0, 1))
	l.maxSize = 100 // an entry is about 80 bytes: every write rotates
	return l, func() []string {
		close(done)
		ms, err := collect(t, msgs, errs)
		if err != nil {
			t.Fatal(err)
		}
		return texts(ms)
	}
}

// TestFollowRotatedDuringLookup replays the sequence behind duplicated
// lines: the reader finished a file that was by then path.3 and, while it
// looked for the files after it, the runtime rotated twice, moving every
// file two numbers up between two of the lookup's steps. A lookup that
// walked path.1, path.2, ... saw the same file under two numbers and read
// it twice.
func TestFollowRotatedDuringLookup(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		var l *testLog
		fired := false // only touched by the reader goroutine
		cfg.onOpen = func(string) {
			if !fired {
				fired = true
				l.lines("line", 3, 2) // two rotations in the middle of the lookup
			}
		}
		l, finish := parkedReader(t, 20, cfg)
		// The parked reader still holds the first file; it becomes path.3.
		l.lines("line", 0, 3)
		got := finish()
		if !fired {
			t.Fatal("the lookup never opened a file")
		}
		equal(t, got, append(numbered("pre", 1, msgBuffer+1), numbered("line", 0, 5)...))
	})
}

// TestFollowAnchorDeleted covers a reader so far behind that rotation
// deleted the file it finished before it read the next ones: it continues
// with the oldest file left, without repeating anything.
func TestFollowAnchorDeleted(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l, finish := parkedReader(t, 3, cfg)
		l.lines("line", 0, 6) // only path.2, path.1 and path survive
		equal(t, finish(), append(numbered("pre", 1, msgBuffer+1), numbered("line", 3, 3)...))
	})
}
