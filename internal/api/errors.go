package api

import (
	"context"
	"errors"
	"net/http"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/labstack/echo/v4"
)

// statusFromError is the one mapping from error classes to HTTP statuses.
// Only errdefs classes are checked here; add a class, not a type switch.
func statusFromError(err error) int {
	var he *echo.HTTPError
	if errors.As(err, &he) { // echo's own routing errors (404, 405)
		return he.Code
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch {
	case cerrdefs.IsNotFound(err):
		return http.StatusNotFound
	case cerrdefs.IsInvalidArgument(err):
		return http.StatusBadRequest
	case cerrdefs.IsConflict(err), cerrdefs.IsAlreadyExists(err), cerrdefs.IsFailedPrecondition(err):
		return http.StatusConflict
	case cerrdefs.IsNotModified(err):
		return http.StatusNotModified
	case cerrdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case cerrdefs.IsPermissionDenied(err):
		return http.StatusForbidden
	case cerrdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	case cerrdefs.IsUnavailable(err):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorMessage is the text of the JSON error body.
func errorMessage(err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Code == http.StatusNotFound {
			return "page not found" // Docker's text for an unknown route
		}
		if msg, ok := he.Message.(string); ok {
			return msg
		}
		return http.StatusText(he.Code)
	}
	return err.Error()
}

// handleError is echo's HTTPErrorHandler, the only writer of error bodies.
func handleError(err error, c echo.Context) {
	ctx := c.Request().Context()
	status := statusFromError(err)
	logger := log.G(ctx).WithError(err).WithField("status", status)
	switch {
	case c.Response().Committed:
		logger.Debug("error after the response started")
		return
	case errors.Is(ctx.Err(), context.Canceled):
		logger.WithField("status", 499).Debug("client went away")
		return
	case status == http.StatusInternalServerError:
		logger.Error("request failed")
	default:
		logger.Debug("request refused")
	}
	if status == http.StatusNotModified || c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, map[string]string{"message": errorMessage(err)})
}
