package logs

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// followOpt follows both streams starting with the last tail lines.
func followOpt(tail int) ReadOpt {
	return ReadOpt{Tail: tail, Follow: true, Stdout: true, Stderr: true}
}

// eachMode runs f once with fsnotify and once with the poll fallback.
func eachMode(t *testing.T, f func(t *testing.T, cfg waitConfig)) {
	for _, m := range waitModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m.cfg)
		})
	}
}

func TestFollowAppend(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 0, 1)
		l.lines("old", 0, 3)
		msgs, _ := read(testCtx(t), l.path, followOpt(1), nil, cfg)
		equal(t, recvN(t, msgs, 1), numbered("old", 2, 1))
		for i := range 5 {
			l.lines("new", i, 1)
			equal(t, recvN(t, msgs, 1), numbered("new", i, 1))
		}
		l.lines("burst", 0, 200)
		equal(t, recvN(t, msgs, 200), numbered("burst", 0, 200))
	})
}

func TestFollowTailZero(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 0, 1)
		l.lines("old", 0, 3)
		msgs, _ := read(testCtx(t), l.path, followOpt(0), nil, cfg)
		// The reader starts at some unknown moment: probe until it sees
		// a line, then everything after the first seen probe must follow.
		first, probes := -1, 0
		for ; first < 0; probes++ {
			l.lines("probe", probes, 1)
			select {
			case m := <-msgs:
				if _, err := fmt.Sscanf(string(m.Line), "probe %d\n", &first); err != nil {
					t.Fatalf("got %q before any probe", m.Line)
				}
			case <-time.After(20 * time.Millisecond):
			}
		}
		l.lines("new", 0, 2)
		want := append(numbered("probe", first+1, probes-first-1), numbered("new", 0, 2)...)
		equal(t, recvN(t, msgs, len(want)), want)
	})
}

func TestFollowRotation(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 400, 3)
		l.lines("line", 0, 12)
		msgs, _ := read(testCtx(t), l.path, followOpt(-1), nil, cfg)
		got := recvN(t, msgs, 12)
		// One line at a time: every rotation is seen on its own.
		for i := 12; i < 30; i++ {
			l.lines("line", i, 1)
			got = append(got, recvN(t, msgs, 1)...)
		}
		// A burst rotates several times before the reader looks; with
		// three files kept, 10 lines (two files' worth) still survive.
		l.lines("line", 30, 10)
		got = append(got, recvN(t, msgs, 10)...)
		equal(t, got, numbered("line", 0, 40))
		expectQuiet(t, msgs, 100*time.Millisecond)
	})
}

func TestFollowTruncate(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		// maxFiles 1: the runtime truncates the live file in place.
		l := newTestLog(t, 400, 1)
		msgs, _ := read(testCtx(t), l.path, followOpt(-1), nil, cfg)
		var got []string
		for i := range 15 {
			l.lines("line", i, 1)
			got = append(got, recvN(t, msgs, 1)...)
		}
		equal(t, got, numbered("line", 0, 15))
	})
}

func TestFollowFileCreatedLater(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		path := t.TempDir() + "/container.log"
		msgs, _ := read(testCtx(t), path, followOpt(-1), nil, cfg)
		expectQuiet(t, msgs, 50*time.Millisecond)
		l := &testLog{t: t, path: path}
		l.open(os.O_APPEND)
		defer l.f.Close()
		l.lines("line", 0, 2)
		equal(t, recvN(t, msgs, 2), numbered("line", 0, 2))
	})
}

func TestFollowPartialLine(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 0, 1)
		msgs, _ := read(testCtx(t), l.path, followOpt(-1), nil, cfg)
		b := encode(t, "stderr", "complete me\n", time.Now())
		l.raw(b[:10])
		expectQuiet(t, msgs, 200*time.Millisecond)
		l.raw(b[10:25])
		expectQuiet(t, msgs, 100*time.Millisecond)
		l.raw(b[25:])
		equal(t, recvN(t, msgs, 1), []string{"complete me\n"})
	})
}

func TestFollowDoneDrains(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 400, 3)
		done := make(chan struct{})
		msgs, errs := read(testCtx(t), l.path, followOpt(-1), done, cfg)
		l.lines("line", 0, 3)
		recvN(t, msgs, 1)
		// Written right before done: must still arrive, then the end.
		l.lines("line", 3, 7)
		l.f.Close()
		close(done)
		ms, err := collect(t, msgs, errs)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, texts(ms), numbered("line", 1, 9))
	})
}

func TestFollowDoneBeforeStart(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.lines("line", 0, 4)
	done := make(chan struct{})
	close(done)
	msgs, errs := Read(testCtx(t), l.path, followOpt(2), done)
	ms, err := collect(t, msgs, errs)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, texts(ms), numbered("line", 2, 2))
}

func TestFollowCancel(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 0, 1)
		l.lines("line", 0, 2)
		ctx, cancel := context.WithCancel(testCtx(t))
		msgs, errs := read(ctx, l.path, followOpt(-1), nil, cfg)
		recvN(t, msgs, 2)
		cancel()
		ms, err := collect(t, msgs, errs)
		if err != nil || len(ms) != 0 {
			t.Fatalf("after cancel: %d messages, err %v", len(ms), err)
		}
	})
}

func TestFollowUntil(t *testing.T) {
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 0, 1)
		l.lines("line", 0, 2)
		opt := followOpt(-1)
		opt.Until = time.Now().Add(300 * time.Millisecond)
		msgs, errs := read(testCtx(t), l.path, opt, nil, cfg)
		l.lines("line", 2, 1)
		ms, err := collect(t, msgs, errs)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, texts(ms), numbered("line", 0, 3))
		if time.Now().Before(opt.Until) {
			t.Fatal("stream ended before Until")
		}
	})
}

func TestFollowUntilLineAfter(t *testing.T) {
	l := newTestLog(t, 0, 1)
	base := time.Now()
	l.writeAt("stdout", "in\n", base)
	opt := followOpt(-1)
	opt.Until = base.Add(time.Second)
	msgs, errs := Read(testCtx(t), l.path, opt, nil)
	recvN(t, msgs, 1)
	l.writeAt("stdout", "out\n", base.Add(2*time.Second))
	l.writeAt("stdout", "in again\n", base)
	ms, err := collect(t, msgs, errs)
	if err != nil || len(ms) != 0 {
		t.Fatalf("got %q, %v; want the stream to end at the first line after Until", texts(ms), err)
	}
}

func TestFollowStress(t *testing.T) {
	// Writes as fast as possible with frequent rotation; maxFiles is large
	// enough that no file is deleted before the reader gets to it.
	eachMode(t, func(t *testing.T, cfg waitConfig) {
		l := newTestLog(t, 2000, 1000)
		done := make(chan struct{})
		msgs, errs := read(testCtx(t), l.path, followOpt(-1), done, cfg)
		const n = 2000
		go func() {
			for i := range n {
				l.write([]string{"stdout", "stderr"}[i%2], fmt.Sprintf("line %d\n", i))
			}
			close(done)
		}()
		ms, err := collect(t, msgs, errs)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, texts(ms), numbered("line", 0, n))
	})
}
