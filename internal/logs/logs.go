package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containerd/log"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// MaxLineSize is the longest encoded line Read accepts; longer lines are
// skipped so that a corrupt file cannot make the reader buffer without
// bound. The runtime cuts log text at 16 KiB, which JSON escaping can grow
// at most six-fold, so real lines stay far below this.
const MaxLineSize = 1 << 20

const (
	msgBuffer  = 16       // messages queued ahead of a slow consumer
	readBuffer = 64 << 10 // forward read buffer per file
	tailBlock  = 64 << 10 // backward scan block for Tail
)

// Message is one log line.
type Message struct {
	// Stream is "stdout" or "stderr".
	Stream string
	// Line is the text, including its trailing newline if the container
	// wrote one (lines cut at 16 KiB or flushed at exit may lack it).
	Line []byte
	// Time is when the runtime recorded the line.
	Time time.Time
}

// ReadOpt selects what Read returns. It mirrors the query of
// GET /containers/{id}/logs.
type ReadOpt struct {
	// Tail is the number of lines to return from the end of the log, counted
	// across rotated files and over both streams before the stream and
	// Since filters apply, as Docker does: -1 means all, 0 none (with
	// Follow: only lines written from now on).
	Tail int
	// Since, when not zero, drops lines recorded before it (a line at
	// exactly Since is kept, as in Docker).
	Since time.Time
	// Until, when not zero, ends the stream at the first line recorded after
	// it; with Follow the stream also ends once the clock passes Until.
	Until time.Time
	// Follow keeps the stream open for lines written later.
	Follow bool
	// Stdout and Stderr select the streams; at least one must be set.
	Stdout, Stderr bool
}

// errStop ends a read early without an error (a line past Until).
var errStop = errors.New("stop reading")

// waitConfig tunes how Follow waits; the zero value is the production
// setting and tests use it to force the poll fallback.
type waitConfig struct {
	noNotify bool          // skip fsnotify, poll only
	poll     time.Duration // poll interval override
	// onOpen, when set, is called after the rotation lookup opens a file
	// it may read next, so that tests can rotate at that exact moment.
	onOpen func(name string)
}

// Read streams the log at path (the live file; rotated files are path.1,
// path.2, ...) according to opt. Without opt.Follow the message channel is
// closed after the last complete line. With opt.Follow it stays open for
// new lines, across rotations, until ctx is done, until opt.Until passes, or
// until done is closed; closing done means the container stopped and the
// writer closed the file, so Read drains what is left and closes the
// stream. done may be nil.
//
// The error channel is buffered, gets at most one error and is closed right
// after the message channel: range over the messages, then receive once
// from the error channel. A missing live file reads as an empty log. When
// neither stream is selected the error is an errdefs.InvalidParameter.
// The caller must either drain the messages or cancel ctx.
func Read(ctx context.Context, path string, opt ReadOpt, done <-chan struct{}) (<-chan Message, <-chan error) {
	return read(ctx, path, opt, done, waitConfig{})
}

func read(ctx context.Context, path string, opt ReadOpt, done <-chan struct{}, cfg waitConfig) (<-chan Message, <-chan error) {
	msgs := make(chan Message, msgBuffer)
	errs := make(chan error, 1)
	r := &reader{path: path, opt: opt, done: done, out: msgs, cfg: cfg}
	go func() {
		defer close(errs)
		defer close(msgs)
		err := r.run(ctx)
		r.closeCur()
		r.closeAnchor()
		if err != nil && !errors.Is(err, errStop) && ctx.Err() == nil {
			errs <- err
		}
	}()
	return msgs, errs
}

// reader is the state of one Read call; it lives on one goroutine.
type reader struct {
	path string
	opt  ReadOpt
	done <-chan struct{}
	out  chan<- Message
	cfg  waitConfig
	// cur reads the file being followed, normally the live one; nil while
	// there is none.
	cur *lineReader
	// curPos is the lowest rotation number cur can have now (0: it was
	// opened as the live file).
	curPos int
	// anchor is the newest file read to its end, from which the lookup
	// finds the next file; nil before any file was read.
	anchor *consumed
}

func (r *reader) run(ctx context.Context) error {
	if !r.opt.Stdout && !r.opt.Stderr {
		return errdefs.InvalidParameter(errors.New("you must choose at least one stream"))
	}
	if r.opt.Tail == 0 && !r.opt.Follow {
		return nil
	}
	snap, err := openSnapshot(ctx, r.path)
	if err != nil {
		return err
	}
	err = r.readSnapshot(ctx, snap)
	snap.close()
	switch {
	case err != nil:
		return err
	case r.opt.Follow:
		return r.follow(ctx)
	case !snap.live:
		return r.catchUp(ctx) // the live file was left out of the snapshot
	}
	return nil
}

// readSnapshot emits the Tail lines of the files opened at the start. The
// newest file (always given a start by tailStarts) becomes r.cur; catchUp
// finishes it and moves on if it is a rotated one.
func (r *reader) readSnapshot(ctx context.Context, s *snapshot) error {
	starts, err := tailStarts(s.files, r.opt.Tail)
	if err != nil || len(s.files) == 0 {
		return err
	}
	last := len(s.files) - 1
	for i, f := range s.files[:last] {
		if err := r.readRotated(ctx, f, starts[i]); err != nil {
			return err
		}
	}
	lr, err := newLineReader(s.files[last], starts[last])
	if err != nil {
		return err
	}
	s.files[last], r.cur, r.curPos = nil, lr, 1 // r owns it now
	if s.live {
		r.curPos = 0
	}
	return r.drain(ctx, lr, false)
}

// readRotated emits a rotated file of the snapshot from start; start < 0
// skips it.
func (r *reader) readRotated(ctx context.Context, f *os.File, start int64) error {
	if start < 0 {
		return nil
	}
	lr, err := newLineReader(f, start)
	if err != nil {
		return err
	}
	return r.drain(ctx, lr, true)
}

// drain emits every complete line lr has; with final it also decodes a
// trailing fragment, because nothing will ever complete it.
func (r *reader) drain(ctx context.Context, lr *lineReader, final bool) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := lr.next()
		switch {
		case errors.Is(err, io.EOF):
			if frag := lr.pending; final && len(frag) > 0 {
				lr.pending = nil
				return r.emit(ctx, frag)
			}
			return nil
		case errors.Is(err, errLineTooLong):
			log.G(ctx).WithField("path", lr.f.Name()).Warnf("skip container log line longer than %d bytes", MaxLineSize)
		case err != nil:
			return fmt.Errorf("read container log: %w", err)
		default:
			if err := r.emit(ctx, line); err != nil {
				return err
			}
		}
	}
}

// emit decodes one encoded line, applies the filters and sends it.
func (r *reader) emit(ctx context.Context, raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	m, err := decode(raw)
	if err != nil {
		log.G(ctx).WithError(err).WithField("path", r.path).Warn("skip corrupt container log line")
		return nil
	}
	if !r.opt.Until.IsZero() && m.Time.After(r.opt.Until) {
		return errStop
	}
	if m.Time.Before(r.opt.Since) || !r.wants(m.Stream) {
		return nil
	}
	select {
	case r.out <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *reader) wants(stream string) bool {
	return (stream == "stdout" && r.opt.Stdout) || (stream == "stderr" && r.opt.Stderr)
}

func (r *reader) closeCur() {
	if r.cur != nil {
		r.cur.f.Close()
		r.cur = nil
	}
}

func (r *reader) closeAnchor() {
	if r.anchor != nil {
		r.anchor.f.Close()
		r.anchor = nil
	}
}

// entry is one line of the json-file format.
type entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func decode(raw []byte) (Message, error) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Message{}, fmt.Errorf("decode log line: %w", err)
	}
	return Message{Stream: e.Stream, Line: []byte(e.Log), Time: e.Time}, nil
}
