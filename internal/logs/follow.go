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
		if r.cur == nil {
			if err := r.advance(); err != nil || r.cur == nil {
				return err
			}
		}
		if err := r.drain(ctx, r.cur, false); err != nil {
			return err
		}
		live, err := r.curIsLive()
		switch {
		case err != nil:
		case !live:
			err = r.retire(ctx)
		case r.cur.truncated():
			err = r.cur.rewind()
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// curIsLive reports whether the live path still names cur. When it does
// not, the runtime has renamed cur away (or removed the log).
func (r *reader) curIsLive() (bool, error) {
	st, err := os.Stat(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat container log: %w", err)
	}
	return os.SameFile(st, r.cur.info), nil
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
