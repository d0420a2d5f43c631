package logs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/log"
	"github.com/fsnotify/fsnotify"
)

const (
	// pollInterval is how often Follow looks at the files without fsnotify.
	pollInterval = 250 * time.Millisecond
	// backstopInterval catches anything fsnotify missed (queue overflow).
	backstopInterval = 2 * time.Second
)

// follow keeps reading the live file until ctx ends, done is closed or
// Until passes.
func (r *reader) follow(ctx context.Context) error {
	wk := newWaker(ctx, r.path, r.cfg)
	defer wk.close()
	var until <-chan time.Time
	if !r.opt.Until.IsZero() {
		t := time.NewTimer(time.Until(r.opt.Until))
		defer t.Stop()
		until = t.C
	}
	for {
		if err := r.catchUp(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			return r.finish(ctx)
		case <-until:
			return r.catchUp(ctx)
		case <-wk.c:
		}
	}
}

// finish drains the files after the writer closed them; a trailing
// fragment can no longer be completed, so it is decoded as is.
func (r *reader) finish(ctx context.Context) error {
	if err := r.catchUp(ctx); err != nil || r.cur == nil {
		return err
	}
	return r.drain(ctx, r.cur, true)
}

// catchUp emits everything written so far, following rotations and
// truncation of the live file.
func (r *reader) catchUp(ctx context.Context) error {
	for {
		if r.cur != nil {
			if err := r.drain(ctx, r.cur, false); err != nil {
				return err
			}
		}
		st, err := os.Stat(r.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // between rename and create, or not started yet
		}
		if err != nil {
			return fmt.Errorf("stat container log: %w", err)
		}
		if r.cur == nil || !os.SameFile(st, r.cur.info) {
			if err := r.switchFile(ctx); err != nil {
				return err
			}
			continue
		}
		if !r.cur.truncated() {
			return nil
		}
		if err := r.cur.rewind(); err != nil {
			return err
		}
	}
}

// switchFile moves on after the live file was rotated away: finish the old
// file (the writer closed it before renaming), read the rotated files
// written after it, then open the new live file. The new file is accepted
// only if path.1 is still the last file read; otherwise another rotation
// slipped in and the loop reads the files in between first.
func (r *reader) switchFile(ctx context.Context) error {
	if r.cur != nil {
		if err := r.drain(ctx, r.cur, true); err != nil {
			return err
		}
		r.anchor = r.cur.info
		r.closeCur()
	}
	for {
		if err := r.readSuccessors(ctx); err != nil {
			return err
		}
		f, err := openIfExists(r.path)
		if err != nil || f == nil {
			return err
		}
		if r.followsAnchor() {
			lr, err := newLineReader(f, 0)
			if err != nil {
				f.Close()
				return err
			}
			r.cur, r.anchor = lr, lr.info
			return nil
		}
		f.Close()
	}
}

// followsAnchor reports whether path.1 is the last file read (or, when no
// file was read yet, absent), so that the live file comes right after it.
func (r *reader) followsAnchor() bool {
	st, err := os.Stat(rotatedName(r.path, 1))
	if r.anchor == nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	return err == nil && os.SameFile(st, r.anchor)
}

// readSuccessors reads, oldest first, the rotated files newer than
// r.anchor. Normally the anchor is path.1 and there are none; when the
// runtime rotated more than once before we looked, the files in between
// are here. If the anchor is gone (deleted by rotation) or was never set,
// every rotated file is newer. The files are held open while scanning, and
// a file seen twice because a rotation shifted it is skipped.
func (r *reader) readSuccessors(ctx context.Context) error {
	newer, err := r.scanNewer()
	defer func() {
		for _, lr := range newer {
			lr.f.Close()
		}
	}()
	if err != nil {
		return err
	}
	for i := len(newer) - 1; i >= 0; i-- {
		r.anchor = newer[i].info
		if err := r.drain(ctx, newer[i], true); err != nil {
			return err
		}
	}
	return nil
}

// scanNewer opens path.1, path.2, ... up to the anchor, newest first.
func (r *reader) scanNewer() ([]*lineReader, error) {
	var newer []*lineReader
	for n := 1; ; n++ {
		f, err := openIfExists(rotatedName(r.path, n))
		if err != nil || f == nil {
			return newer, err
		}
		lr, err := newLineReader(f, 0)
		if err != nil {
			f.Close()
			return newer, err
		}
		if r.anchor != nil && os.SameFile(lr.info, r.anchor) {
			f.Close()
			return newer, nil
		}
		if last := len(newer) - 1; last >= 0 && os.SameFile(lr.info, newer[last].info) {
			f.Close() // shifted up by a rotation during the scan
			continue
		}
		newer = append(newer, lr)
	}
}

// waker signals on c whenever the log files may have changed: on fsnotify
// events for the log's directory, and on a ticker (a slow backstop with
// fsnotify, the only source without it). Signals coalesce.
type waker struct {
	c    chan struct{}
	stop context.CancelFunc
	exit chan struct{}
}

func newWaker(ctx context.Context, path string, cfg waitConfig) *waker {
	ctx, cancel := context.WithCancel(ctx)
	wk := &waker{c: make(chan struct{}, 1), stop: cancel, exit: make(chan struct{})}
	var w *fsnotify.Watcher
	if !cfg.noNotify {
		w = watchDir(ctx, path)
	}
	interval := pollInterval
	if w != nil {
		interval = backstopInterval
	}
	if cfg.poll > 0 {
		interval = cfg.poll
	}
	go wk.loop(ctx, w, filepath.Base(path), interval)
	return wk
}

// watchDir watches the directory of path, so that renames and creation of
// the live file are seen too; nil when fsnotify cannot be used.
func watchDir(ctx context.Context, path string) *fsnotify.Watcher {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(path)); err != nil {
			w.Close()
		}
	}
	if err != nil {
		log.G(ctx).WithError(err).Debug("watch container log, falling back to polling")
		return nil
	}
	return w
}

func (wk *waker) loop(ctx context.Context, w *fsnotify.Watcher, base string, interval time.Duration) {
	defer close(wk.exit)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events, errs = nil, nil // watcher died: the ticker remains
			} else if !strings.HasPrefix(filepath.Base(ev.Name), base) {
				continue
			}
		case <-errs: // overflow: events were lost, look anyway
		case <-tick.C:
		}
		select {
		case wk.c <- struct{}{}:
		default:
		}
	}
}

func (wk *waker) close() {
	wk.stop()
	<-wk.exit
}
