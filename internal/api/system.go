package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

func (h *handlers) getPing(c echo.Context) error {
	hd := c.Response().Header()
	hd.Set("Builder-Version", "1")
	hd.Set("Swarm", "inactive")
	hd.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	hd.Set("Pragma", "no-cache")
	if c.Request().Method == http.MethodHead {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		hd.Set("Content-Length", "0")
		return c.NoContent(http.StatusOK)
	}
	return c.String(http.StatusOK, "OK")
}

func (h *handlers) getVersion(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := h.System.SystemVersion(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, versionForAPI(v, apiVersion(ctx)))
}

func (h *handlers) getInfo(c echo.Context) error {
	ctx := c.Request().Context()
	info, err := h.System.SystemInfo(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

var eventFilters = []string{"config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"}

// getEvents streams events as JSON lines; with until it stops there.
func (h *handlers) getEvents(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.Request().URL.Query()
	since, err := filters.ParseTimestamp(q.Get("since"))
	if err != nil {
		return err
	}
	until, err := filters.ParseTimestamp(q.Get("until"))
	if err != nil {
		return err
	}
	if !until.IsZero() && until.Before(since) {
		return errdefs.Errorf(errdefs.InvalidParameter, "`since` time (%s) cannot be after `until` time (%s)", q.Get("since"), q.Get("until"))
	}
	f, err := filters.Parse(q.Get("filters"), eventFilters...)
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = time.Now() // no replay unless asked
	}
	past, live := h.System.SubscribeEvents(ctx, since, events.Filter(f))
	// Point of no return: errors from here on end the stream.
	w := stream.NewJSONLines(c.Response(), "application/json")
	return streamEvents(ctx, w, past, live, until, apiVersion(ctx))
}

func afterUntil(until, t time.Time) bool { return !until.IsZero() && t.After(until) }

func (h *handlers) getSystemDF(c echo.Context) error {
	du, err := h.System.SystemDiskUsage(c.Request().Context())
	if err != nil {
		return err
	}
	du.Images = imageSummariesForAPIPlain(du.Images)
	if du.Containers == nil {
		du.Containers = []container.Summary{}
	}
	if du.Volumes == nil {
		du.Volumes = []volume.Volume{}
	}
	du.BuildCache = []struct{}{}
	return c.JSON(http.StatusOK, du)
}
