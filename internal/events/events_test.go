package events

import (
	"context"
	"testing"
	"time"
)

func TestFilterMatch(t *testing.T) {
	ctr := Event{Type: "container", Action: "health_status: healthy", ID: "abcdef123",
		Attributes: map[string]string{"name": "web", "image": "busybox:latest", "tier": "front"}}
	img := Event{Type: "image", Action: "pull", ID: "busybox:latest", Attributes: map[string]string{"name": "busybox"}}
	cases := []struct {
		name string
		f    Filter
		e    Event
		want bool
	}{
		{"empty", Filter{}, ctr, true},
		{"type", Filter{"type": {"image"}}, ctr, false},
		{"type or", Filter{"type": {"image", "container"}}, ctr, true},
		{"event without args", Filter{"event": {"health_status"}}, ctr, true},
		{"event exact", Filter{"event": {"health_status: healthy"}}, ctr, true},
		{"event other", Filter{"event": {"die"}}, ctr, false},
		{"container by name", Filter{"container": {"web"}}, ctr, true},
		{"container by id prefix", Filter{"container": {"abc"}}, ctr, true},
		{"container filter drops images", Filter{"container": {"web"}}, img, false},
		{"image on container", Filter{"image": {"busybox"}}, ctr, true},
		{"image event", Filter{"image": {"busybox"}}, img, true},
		{"label key", Filter{"label": {"tier"}}, ctr, true},
		{"label value", Filter{"label": {"tier=back"}}, ctr, false},
		{"keys are ANDed", Filter{"type": {"container"}, "event": {"die"}}, ctr, false},
	}
	for _, tc := range cases {
		if got := tc.f.Match(tc.e); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSubscribeReplayAndLive(t *testing.T) {
	b := New()
	t0 := time.Now()
	b.Publish(Event{Type: "image", Action: "pull", ID: "old", Time: t0.Add(-time.Hour)})
	b.Publish(Event{Type: "image", Action: "tag", ID: "recent", Time: t0})
	ctx, cancel := context.WithCancel(context.Background())
	past, ch := b.Subscribe(ctx, t0.Add(-time.Minute), Filter{"type": {"image"}})
	if len(past) != 1 || past[0].ID != "recent" {
		t.Fatalf("replay = %+v, want only the recent event", past)
	}
	b.Publish(Event{Type: "container", Action: "start", ID: "c"})
	b.Publish(Event{Type: "image", Action: "delete", ID: "live"})
	if e := <-ch; e.ID != "live" || e.Scope != "local" || e.Time.IsZero() {
		t.Fatalf("live event = %+v", e)
	}
	if b.Listeners() != 1 {
		t.Fatalf("listeners = %d", b.Listeners())
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
}

func TestSlowSubscriberIsEvicted(t *testing.T) {
	b := New()
	_, ch := b.Subscribe(context.Background(), time.Now(), nil)
	for i := 0; i < queueSize+1; i++ {
		b.Publish(Event{Type: "image", Action: "tag"})
	}
	n := 0
	for range ch {
		n++
	}
	if n != queueSize || b.Listeners() != 0 {
		t.Fatalf("got %d events, %d listeners; want %d and 0", n, b.Listeners(), queueSize)
	}
}
