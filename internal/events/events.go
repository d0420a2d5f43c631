// Package events is the daemon's event bus: every capability publishes what
// happened (container start, image pull, ...) and GET /events subscribers
// receive it, with a bounded replay buffer for since/until queries.
package events

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Event is one thing that happened to an object of the engine.
type Event struct {
	Type       string // container, image, volume, network, daemon, ...
	Action     string // create, start, die, pull, ...
	ID         string // the object's ID (or reference for images)
	Attributes map[string]string
	Scope      string // "local"
	Time       time.Time
}

// Filter selects events by Docker's filter keys (type, event, container,
// image, volume, network, daemon, label, scope). Values of one key are ORed,
// keys are ANDed.
type Filter map[string][]string

const (
	replaySize = 1024 // events kept for since= queries
	queueSize  = 256  // per-subscriber backlog before eviction
)

// Bus fans published events out to subscribers. It MUST be safe for
// concurrent use; Publish never blocks on a slow subscriber: a subscriber
// whose queue is full is evicted (its channel closes).
type Bus struct {
	mu     sync.Mutex
	replay []Event
	subs   map[*subscriber]struct{}
}

type subscriber struct {
	filter Filter
	ch     chan Event
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: make(map[*subscriber]struct{})} }

// Publish records e (stamping its time and scope if unset) and delivers it.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Scope == "" {
		e.Scope = "local"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.replay) == replaySize {
		b.replay = append(b.replay[:0], b.replay[1:]...)
	}
	b.replay = append(b.replay, e)
	for s := range b.subs {
		if !s.filter.Match(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// Subscribe returns the buffered events at or after since that match f, and
// a channel of later ones. The channel closes when ctx is done or the
// subscriber falls too far behind.
func (b *Bus) Subscribe(ctx context.Context, since time.Time, f Filter) ([]Event, <-chan Event) {
	s := &subscriber{filter: f, ch: make(chan Event, queueSize)}
	b.mu.Lock()
	var past []Event
	for _, e := range b.replay {
		if !e.Time.Before(since) && f.Match(e) {
			past = append(past, e)
		}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	}()
	return past, s.ch
}

// Listeners reports the number of live subscribers.
func (b *Bus) Listeners() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Match reports whether e passes every key of f.
func (f Filter) Match(e Event) bool {
	for key, vals := range f {
		if len(vals) > 0 && !matchKey(key, vals, e) {
			return false
		}
	}
	return true
}

func matchKey(key string, vals []string, e Event) bool {
	switch key {
	case "type":
		return anyEqual(vals, e.Type)
	case "event":
		action, _, _ := strings.Cut(e.Action, ":")
		return anyEqual(vals, e.Action) || anyEqual(vals, action)
	case "scope":
		return anyEqual(vals, e.Scope)
	case "label":
		return anyLabel(vals, e.Attributes)
	case "image":
		return e.Type == key && anyPrefix(vals, e.ID, e.Attributes["name"]) ||
			e.Type == "container" && anyImage(vals, e.Attributes["image"])
	case "container", "volume", "network", "daemon", "plugin", "node", "service", "secret", "config":
		return e.Type == key && anyPrefix(vals, e.ID, e.Attributes["name"])
	}
	return true
}

func anyEqual(vals []string, s string) bool {
	for _, v := range vals {
		if v == s {
			return true
		}
	}
	return false
}

// anyPrefix matches IDs by prefix and names exactly, like Docker.
func anyPrefix(vals []string, id, name string) bool {
	for _, v := range vals {
		if v == name || (v != "" && strings.HasPrefix(id, v)) {
			return true
		}
	}
	return false
}

func anyImage(vals []string, image string) bool {
	base, _, _ := strings.Cut(image, "@")
	for _, v := range vals {
		if v == image || v == base || v+":latest" == base {
			return true
		}
	}
	return false
}

func anyLabel(vals []string, attrs map[string]string) bool {
	for _, v := range vals {
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := attrs[k]
		if ok && (!hasValue || got == want) {
			return true
		}
	}
	return false
}
