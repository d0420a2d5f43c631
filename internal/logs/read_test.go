package logs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
)

func readAll(t *testing.T, path string, opt ReadOpt) ([]Message, error) {
	t.Helper()
	msgs, errs := Read(testCtx(t), path, opt, nil)
	return collect(t, msgs, errs)
}

func TestReadTailAcrossRotation(t *testing.T) {
	// Each entry is about 80 bytes, so 400 bytes hold ~5: 25 lines make
	// five files, all kept with maxFiles 6.
	l := newTestLog(t, 400, 6)
	l.lines("line", 0, 25)
	if _, err := os.Stat(rotatedName(l.path, 4)); err != nil {
		t.Fatalf("setup did not rotate enough: %v", err)
	}
	all := numbered("line", 0, 25)
	for _, tc := range []struct {
		tail int
		want []string
	}{
		{-1, all},
		{0, nil},
		{1, all[24:]},
		{3, all[22:]},
		{7, all[18:]},
		{12, all[13:]},
		{24, all[1:]},
		{25, all},
		{1000, all},
	} {
		t.Run(fmt.Sprint(tc.tail), func(t *testing.T) {
			ms, err := readAll(t, l.path, ReadOpt{Tail: tc.tail, Stdout: true, Stderr: true})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, texts(ms), tc.want)
		})
	}
}

func TestReadTailDroppedOldest(t *testing.T) {
	// maxFiles 2: only path and path.1 survive, the rest is gone.
	l := newTestLog(t, 400, 2)
	l.lines("line", 0, 25)
	ms, err := readAll(t, l.path, both)
	if err != nil {
		t.Fatal(err)
	}
	got := texts(ms)
	if len(got) == 0 || len(got) >= 25 || got[len(got)-1] != "line 24\n" {
		t.Fatalf("unexpected lines %q", got)
	}
	equal(t, got, numbered("line", 25-len(got), len(got)))
}

func TestTailOffset(t *testing.T) {
	data := []byte("aa\nbbb\nc\n\ndd")
	for _, tc := range []struct {
		n, block  int
		start     int64
		found     int
		sizeLimit int
	}{
		{n: 0, block: 4, start: 10, found: 0},
		{n: 1, block: 4, start: 9, found: 1},
		{n: 2, block: 1, start: 7, found: 2},
		{n: 3, block: 3, start: 3, found: 3},
		{n: 4, block: 64, start: 0, found: 4},
		{n: 9, block: 2, start: 0, found: 4},
		{n: 2, block: 5, start: 7, found: 2, sizeLimit: 10},
	} {
		t.Run(fmt.Sprintf("n%d_b%d", tc.n, tc.block), func(t *testing.T) {
			size := len(data)
			if tc.sizeLimit > 0 {
				size = tc.sizeLimit
			}
			start, found, err := tailOffset(bytes.NewReader(data), int64(size), tc.n, tc.block)
			if err != nil || start != tc.start || found != tc.found {
				t.Fatalf("got (%d, %d, %v), want (%d, %d)", start, found, err, tc.start, tc.found)
			}
		})
	}
}

func TestReadSinceUntil(t *testing.T) {
	l := newTestLog(t, 0, 1)
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 6 {
		l.writeAt("stdout", fmt.Sprintf("t%d\n", i), base.Add(time.Duration(i)*time.Second))
	}
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	for _, tc := range []struct {
		name         string
		tail         int
		since, until time.Time
		want         string
	}{
		{name: "none", tail: -1, want: "t0 t1 t2 t3 t4 t5"},
		{name: "since inclusive", tail: -1, since: at(3), want: "t3 t4 t5"},
		{name: "since between", tail: -1, since: at(3).Add(-time.Millisecond), want: "t3 t4 t5"},
		{name: "since after all", tail: -1, since: at(9), want: ""},
		{name: "until inclusive", tail: -1, until: at(2), want: "t0 t1 t2"},
		{name: "until before all", tail: -1, until: at(-1), want: ""},
		{name: "window", tail: -1, since: at(1), until: at(3).Add(time.Millisecond), want: "t1 t2 t3"},
		{name: "tail before since", tail: 2, since: at(1), want: "t4 t5"},
		{name: "since drops tail", tail: 4, since: at(4), want: "t4 t5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := readAll(t, l.path, ReadOpt{Tail: tc.tail, Since: tc.since, Until: tc.until, Stdout: true, Stderr: true})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(strings.Fields(strings.Join(texts(ms), " ")), " ")
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i, m := range ms {
				if m.Time.IsZero() || (i > 0 && m.Time.Before(ms[i-1].Time)) {
					t.Fatalf("bad time %v", m.Time)
				}
			}
		})
	}
}

func TestReadStreams(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.write("stdout", "o1\n")
	l.write("stderr", "e1\n")
	l.write("stdout", "o2\n")
	l.write("stderr", "e2\n")
	for _, tc := range []struct {
		name           string
		tail           int
		stdout, stderr bool
		want           []string
	}{
		{"both", -1, true, true, []string{"o1\n", "e1\n", "o2\n", "e2\n"}},
		{"stdout", -1, true, false, []string{"o1\n", "o2\n"}},
		{"stderr", -1, false, true, []string{"e1\n", "e2\n"}},
		// Docker counts the tail over both streams before selecting.
		{"stdout tail 2", 2, true, false, []string{"o2\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := readAll(t, l.path, ReadOpt{Tail: tc.tail, Stdout: tc.stdout, Stderr: tc.stderr})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, texts(ms), tc.want)
			for _, m := range ms {
				if (m.Stream == "stdout") != strings.HasPrefix(string(m.Line), "o") {
					t.Fatalf("line %q has stream %q", m.Line, m.Stream)
				}
			}
		})
	}
}

func TestReadNoStream(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.write("stdout", "x\n")
	ms, err := readAll(t, l.path, ReadOpt{Tail: -1})
	if len(ms) != 0 || !cerrdefs.IsInvalidArgument(err) {
		t.Fatalf("got %d messages, err %v; want an invalid-parameter error", len(ms), err)
	}
}

func TestReadMissingFile(t *testing.T) {
	ms, err := readAll(t, t.TempDir()+"/container.log", both)
	if err != nil || len(ms) != 0 {
		t.Fatalf("got %d messages, err %v", len(ms), err)
	}
}

func TestReadPartialLastLine(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.lines("line", 0, 3)
	half := encode(t, "stdout", "not yet\n", time.Now())
	l.raw(half[:len(half)/2])
	for _, tail := range []int{-1, 1, 2} {
		ms, err := readAll(t, l.path, ReadOpt{Tail: tail, Stdout: true})
		if err != nil {
			t.Fatal(err)
		}
		want := numbered("line", 0, 3)
		if tail > 0 {
			want = want[3-tail:]
		}
		equal(t, texts(ms), want)
	}
}

func TestReadSkipsCorruptAndLongLines(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.write("stdout", "a\n")
	l.raw([]byte("{\"log\":\"trunc{\"log\":\"x\"}\n\n"))
	l.write("stdout", "b\n")
	l.raw(append(bytes.Repeat([]byte("x"), MaxLineSize+10), '\n'))
	l.write("stdout", "no newline")
	l.write("stderr", "c\n")
	ms, err := readAll(t, l.path, both)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, texts(ms), []string{"a\n", "b\n", "no newline", "c\n"})
}

func TestReadCancel(t *testing.T) {
	l := newTestLog(t, 0, 1)
	l.lines("line", 0, 100)
	ctx, cancel := context.WithCancel(testCtx(t))
	msgs, errs := Read(ctx, l.path, both, nil)
	recvN(t, msgs, 1)
	cancel()
	ms, err := collect(t, msgs, errs)
	if err != nil || len(ms) > msgBuffer+1 {
		t.Fatalf("after cancel: %d more messages, err %v", len(ms), err)
	}
}
