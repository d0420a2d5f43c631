package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// pathParam is the required ?path= of the archive endpoints.
func pathParam(c echo.Context) (string, error) {
	p := c.QueryParam("path")
	if p == "" {
		return "", errdefs.Errorf(errdefs.InvalidParameter, "path cannot be empty")
	}
	return p, nil
}

func (h *handlers) headContainerArchive(c echo.Context) error {
	p, err := pathParam(c)
	if err != nil {
		return err
	}
	st, err := h.Containers.ContainerStatPath(c.Request().Context(), c.Param("id"), p)
	if err != nil {
		return err
	}
	v, err := encodePathStat(st)
	if err != nil {
		return err
	}
	c.Response().Header().Set(pathStatHeader, v)
	return c.NoContent(http.StatusOK)
}

func (h *handlers) getContainerArchive(c echo.Context) error {
	p, err := pathParam(c)
	if err != nil {
		return err
	}
	rc, st, err := h.Containers.ContainerArchivePath(c.Request().Context(), c.Param("id"), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	v, err := encodePathStat(st)
	if err != nil {
		return err
	}
	c.Response().Header().Set(pathStatHeader, v)
	return c.Stream(http.StatusOK, "application/x-tar", rc)
}

func (h *handlers) putContainerArchive(c echo.Context) error {
	p, err := pathParam(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	opt := ExtractOptions{Path: p, NoOverwriteDirNonDir: boolValue(q.Get("noOverwriteDirNonDir")),
		CopyUIDGID: boolValue(q.Get("copyUIDGID")), Content: c.Request().Body}
	if err := h.Containers.ContainerExtractToDir(c.Request().Context(), c.Param("id"), opt); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// postContainerCopy is the endpoint docker cp used before API 1.24.
func (h *handlers) postContainerCopy(c echo.Context) error {
	ctx := c.Request().Context()
	if legacyCopyRemoved(apiVersion(ctx)) {
		return c.NoContent(http.StatusNotFound) // dockerd's answer: a bare 404
	}
	var req struct{ Resource string }
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Resource == "" {
		return errdefs.Errorf(errdefs.InvalidParameter, "path cannot be empty")
	}
	rc, _, err := h.Containers.ContainerArchivePath(ctx, c.Param("id"), req.Resource)
	if err != nil {
		return err
	}
	defer rc.Close()
	return c.Stream(http.StatusOK, "application/x-tar", rc)
}

func (h *handlers) getContainerExport(c echo.Context) error {
	rc, err := h.Containers.ContainerExport(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	return c.Stream(http.StatusOK, "application/x-tar", rc)
}

func (h *handlers) getContainerChanges(c echo.Context) error {
	list, err := h.Containers.ContainerChanges(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []container.FilesystemChange{}
	}
	return c.JSON(http.StatusOK, list)
}

func (h *handlers) postCommit(c echo.Context) error {
	ctx := c.Request().Context()
	var cfg *container.Config
	if err := decodeJSON(c, &cfg); err != nil {
		return err
	}
	q := c.QueryParams()
	opt := CommitOptions{Container: q.Get("container"), Ref: joinRef(q.Get("repo"), q.Get("tag")),
		Comment: q.Get("comment"), Author: q.Get("author"), Pause: commitPause(q.Get("pause"), apiVersion(ctx)),
		Changes: q["changes"], Config: cfg}
	id, err := h.Containers.ContainerCommit(ctx, opt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, container.CommitResponse{ID: id})
}
