package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

var containerListFilters = []string{"ancestor", "before", "exited", "health", "id", "isolation", "is-task", "label", "name", "network", "publish", "expose", "since", "status", "volume"}

func (h *handlers) postContainersCreate(c echo.Context) error {
	ctx := c.Request().Context()
	var req createRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Config == nil {
		return errdefs.Errorf(errdefs.InvalidParameter, "config cannot be empty in order to create a container")
	}
	opt, err := createOptionsForAPI(req, c.QueryParam("name"), c.QueryParam("platform"), apiVersion(ctx))
	if err != nil {
		return err
	}
	res, err := h.Containers.ContainerCreate(ctx, opt)
	if err != nil {
		return err
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	return c.JSON(http.StatusCreated, res)
}

func (h *handlers) getContainersJSON(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	f, err := filters.Parse(q.Get("filters"), containerListFilters...)
	if err != nil {
		return err
	}
	limit := -1
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil {
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid limit %q", l)
		}
	}
	opt := ContainerListOptions{All: boolValue(q.Get("all")), Limit: limit, Size: boolValue(q.Get("size")), Filters: f}
	legacyListParams(q, &opt)
	list, err := h.Containers.ContainerList(ctx, opt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *handlers) getContainerJSON(c echo.Context) error {
	ctx := c.Request().Context()
	res, err := h.Containers.ContainerInspect(ctx, c.Param("id"), boolValue(c.QueryParam("size")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, containerInspectForAPI(res, apiVersion(ctx)))
}

func (h *handlers) postContainerStart(c echo.Context) error {
	ctx := c.Request().Context()
	if versions.LessThan(apiVersion(ctx), "1.24") {
		// Before 1.24 start may carry a HostConfig, replacing create's.
		var hc *container.HostConfig
		if err := decodeJSON(c, &hc); err != nil {
			return err
		}
		if hc != nil {
			if err := h.Containers.ContainerSetHostConfig(ctx, c.Param("id"), hc); err != nil {
				return err
			}
		}
	}
	if err := h.Containers.ContainerStart(ctx, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postContainerStop(c echo.Context) error {
	opt, err := stopOptions(c)
	if err != nil {
		return err
	}
	if err := h.Containers.ContainerStop(c.Request().Context(), c.Param("id"), opt); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postContainerRestart(c echo.Context) error {
	opt, err := stopOptions(c)
	if err != nil {
		return err
	}
	if err := h.Containers.ContainerRestart(c.Request().Context(), c.Param("id"), opt); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// stopOptions reads ?t= (seconds; -1 waits forever) and ?signal= (1.42+).
func stopOptions(c echo.Context) (StopOptions, error) {
	opt := StopOptions{Signal: c.QueryParam("signal")}
	if t := c.QueryParam("t"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return opt, errdefs.Errorf(errdefs.InvalidParameter, "invalid value for t: %q", t)
		}
		opt.Timeout = &n
	}
	return opt, nil
}

func (h *handlers) postContainerKill(c echo.Context) error {
	if err := h.Containers.ContainerKill(c.Request().Context(), c.Param("id"), c.QueryParam("signal")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// postContainerWait flushes the header at once (docker run calls wait
// before start and waits for the header), then blocks for the result.
func (h *handlers) postContainerWait(c echo.Context) error {
	ctx := c.Request().Context()
	cond := c.QueryParam("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid condition: %q", cond)
	}
	ch, err := h.Containers.ContainerWait(ctx, c.Param("id"), cond)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().WriteHeader(http.StatusOK)
	_ = http.NewResponseController(c.Response()).Flush()
	select {
	case <-ctx.Done():
		return nil
	case r := <-ch:
		return writeJSON(c, waitResponseForAPI(r, apiVersion(ctx)))
	}
}

func (h *handlers) deleteContainer(c echo.Context) error {
	opt := RemoveOptions{Force: boolValue(c.QueryParam("force")), RemoveVolumes: boolValue(c.QueryParam("v")), RemoveLink: boolValue(c.QueryParam("link"))}
	if err := h.Containers.ContainerRemove(c.Request().Context(), c.Param("id"), opt); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postContainerRename(c echo.Context) error {
	name := c.QueryParam("name")
	if name == "" {
		return errdefs.Errorf(errdefs.InvalidParameter, "new name must be given: ?name=")
	}
	if err := h.Containers.ContainerRename(c.Request().Context(), c.Param("id"), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postContainerResize(c echo.Context) error {
	height, width, err := consoleSize(c)
	if err != nil {
		return err
	}
	if err := h.Containers.ContainerResize(c.Request().Context(), c.Param("id"), height, width); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

func consoleSize(c echo.Context) (uint, uint, error) {
	hgt, err1 := strconv.ParseUint(c.QueryParam("h"), 10, 16)
	wid, err2 := strconv.ParseUint(c.QueryParam("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, errdefs.Errorf(errdefs.InvalidParameter, "invalid console size: h=%q w=%q", c.QueryParam("h"), c.QueryParam("w"))
	}
	return uint(hgt), uint(wid), nil
}

// writeJSON writes v to an already committed response.
func writeJSON(c echo.Context, v any) error {
	return json.NewEncoder(c.Response()).Encode(v)
}

func (h *handlers) postContainersPrune(c echo.Context) error {
	f, err := filters.Parse(c.QueryParam("filters"), "until", "label", "label!")
	if err != nil {
		return err
	}
	rep, err := h.Containers.ContainerPrune(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if rep.ContainersDeleted == nil {
		rep.ContainersDeleted = []string{}
	}
	return c.JSON(http.StatusOK, rep)
}
