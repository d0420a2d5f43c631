package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

func (h *handlers) getNetworks(c echo.Context) error {
	f, err := filters.Parse(c.QueryParam("filters"), "driver", "id", "label", "name", "scope", "type", "dangling")
	if err != nil {
		return err
	}
	list, err := h.Networks.NetworkList(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []network.Summary{}
	}
	return c.JSON(http.StatusOK, list)
}

func (h *handlers) getNetwork(c echo.Context) error {
	res, err := h.Networks.NetworkInspect(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *handlers) postNetworksCreate(c echo.Context) error {
	var req network.CreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return errdefs.Errorf(errdefs.InvalidParameter, "network name is required")
	}
	res, err := h.Networks.NetworkCreate(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

func (h *handlers) postNetworkConnect(c echo.Context) error {
	var req network.ConnectRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.Networks.NetworkConnect(c.Request().Context(), c.Param("id"), req.Container, req.EndpointConfig); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

func (h *handlers) postNetworkDisconnect(c echo.Context) error {
	var req network.DisconnectRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.Networks.NetworkDisconnect(c.Request().Context(), c.Param("id"), req.Container, req.Force); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

func (h *handlers) deleteNetwork(c echo.Context) error {
	if err := h.Networks.NetworkRemove(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) postNetworksPrune(c echo.Context) error {
	f, err := filters.Parse(c.QueryParam("filters"), "until", "label", "label!")
	if err != nil {
		return err
	}
	rep, err := h.Networks.NetworksPrune(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if rep.NetworksDeleted == nil {
		rep.NetworksDeleted = []string{}
	}
	return c.JSON(http.StatusOK, rep)
}
