package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/container"
)

// getContainerTop serves GET /containers/{id}/top?ps_args=.
func (h *handlers) getContainerTop(c echo.Context) error {
	psArgs := c.QueryParam("ps_args")
	if psArgs == "" {
		psArgs = "-ef"
	}
	res, err := h.Containers.ContainerTop(c.Request().Context(), c.Param("id"), psArgs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// getContainerStats serves GET /containers/{id}/stats: one JSON document
// per sample, flushed as it comes (stream defaults to true, as in Docker).
func (h *handlers) getContainerStats(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	opt := StatsOptions{Stream: q.Get("stream") == "" || boolValue(q.Get("stream")), OneShot: boolValue(q.Get("one-shot"))}
	samples, err := h.Containers.ContainerStats(ctx, c.Param("id"), opt)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().WriteHeader(http.StatusOK)
	rc := http.NewResponseController(c.Response())
	_ = rc.Flush()
	for s := range samples {
		if err := writeJSON(c, statsForAPI(s, apiVersion(ctx))); err != nil {
			return nil
		}
		_ = rc.Flush()
	}
	return nil
}

func (h *handlers) postContainerPause(c echo.Context) error {
	if err := h.Containers.ContainerPause(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postContainerUnpause(c echo.Context) error {
	if err := h.Containers.ContainerUnpause(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// postContainerUpdate serves POST /containers/{id}/update.
func (h *handlers) postContainerUpdate(c echo.Context) error {
	var cfg container.UpdateConfig
	if err := decodeJSON(c, &cfg); err != nil {
		return err
	}
	res, err := h.Containers.ContainerUpdate(c.Request().Context(), c.Param("id"), cfg)
	if err != nil {
		return err
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	return c.JSON(http.StatusOK, res)
}
