package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

var (
	volumeListFilters  = []string{"dangling", "name", "label", "driver"}
	volumePruneFilters = []string{"label", "label!", "all"}
)

func (h *handlers) getVolumes(c echo.Context) error {
	f, err := filters.Parse(c.QueryParam("filters"), volumeListFilters...)
	if err != nil {
		return err
	}
	list, err := h.Volumes.VolumeList(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, volume.ListResponse{Volumes: nonNilVolumes(list)})
}

func (h *handlers) postVolumesCreate(c echo.Context) error {
	var req volume.CreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := h.Volumes.VolumeCreate(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v) // 201 at every version (v1.21 and v1.47 specs)
}

func (h *handlers) getVolume(c echo.Context) error {
	v, err := h.Volumes.VolumeInspect(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *handlers) deleteVolume(c echo.Context) error {
	if err := h.Volumes.VolumeRemove(c.Request().Context(), c.Param("name"), boolValue(c.QueryParam("force"))); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postVolumesPrune(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := filters.Parse(c.QueryParam("filters"), volumePruneFilters...)
	if err != nil {
		return err
	}
	rep, err := h.Volumes.VolumePrune(ctx, volumePruneFiltersForAPI(f, apiVersion(ctx)))
	if err != nil {
		return err
	}
	if rep.VolumesDeleted == nil {
		rep.VolumesDeleted = []string{}
	}
	return c.JSON(http.StatusOK, rep)
}

// putVolume is the cluster volume update; without swarm it answers what a
// standalone dockerd answers.
func (h *handlers) putVolume(echo.Context) error {
	return errdefs.Errorf(errdefs.Unavailable, "volume update only valid for cluster volumes, but swarm is not enabled")
}
