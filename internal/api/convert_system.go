package api

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
)

// versionForAPI drops fields that older API versions did not have:
// MinAPIVersion arrived in 1.25, Platform and Components in 1.35.
func versionForAPI(v system.VersionResponse, api string) system.VersionResponse {
	if versions.LessThan(api, "1.35") {
		v.Platform, v.Components = system.PlatformInfo{}, nil
	}
	if versions.LessThan(api, "1.25") {
		v.MinAPIVersion = ""
	}
	return v
}

// wireEvent is the JSON shape of one event. The legacy status/id/from
// fields were the whole event before API 1.22 and stayed (deprecated) for
// container and image events until 1.52.
type wireEvent struct {
	Status   string     `json:"status,omitempty"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Type     string     `json:"Type,omitempty"`
	Action   string     `json:"Action,omitempty"`
	Actor    *wireActor `json:"Actor,omitempty"`
	Scope    string     `json:"scope,omitempty"`
	Time     int64      `json:"time"`
	TimeNano int64      `json:"timeNano,omitempty"`
}

type wireActor struct {
	ID         string
	Attributes map[string]string
}

func eventForAPI(e events.Event, api string) wireEvent {
	w := wireEvent{Time: e.Time.Unix()}
	if e.Type == "container" || e.Type == "image" {
		w.Status, w.ID, w.From = e.Action, e.ID, e.Attributes["image"]
	}
	if versions.GreaterThanOrEqualTo(api, "1.21") {
		w.TimeNano = e.Time.UnixNano()
	}
	if versions.GreaterThanOrEqualTo(api, "1.22") { // Type, Action, Actor
		attrs := e.Attributes
		if attrs == nil {
			attrs = map[string]string{}
		}
		w.Type, w.Action, w.Scope = e.Type, e.Action, e.Scope
		w.Actor = &wireActor{ID: e.ID, Attributes: attrs}
	}
	return w
}

// streamEvents writes past then live events until ctx ends, the bus drops
// the subscriber, or until passes.
func streamEvents(ctx context.Context, w *stream.JSONLines, past []events.Event, live <-chan events.Event, until time.Time, api string) error {
	for _, e := range past {
		if afterUntil(until, e.Time) {
			return nil
		}
		if err := w.Write(eventForAPI(e, api)); err != nil {
			return nil
		}
	}
	var deadline <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case e, ok := <-live:
			if !ok || afterUntil(until, e.Time) {
				return nil
			}
			if err := w.Write(eventForAPI(e, api)); err != nil {
				return nil
			}
		}
	}
}
