package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// maxJSONBody bounds request bodies that are documents, not streams.
const maxJSONBody = 8 << 20

// streamProgress runs op, rendering its progress as JSON lines. The
// response is committed on the first message, so an error before any
// progress is an ordinary JSON error with its status, and one after it is an
// in-band errorDetail line (the CLI prints it and exits non-zero).
func streamProgress(c echo.Context, op func(ProgressFunc) error) error {
	var w *stream.JSONLines
	var werr error
	var mu sync.Mutex // layers report concurrently
	progress := func(m jsonstream.Message) {
		mu.Lock()
		defer mu.Unlock()
		if w == nil {
			w = stream.NewJSONLines(c.Response(), "application/json")
		}
		if werr == nil {
			werr = w.Write(m)
		}
	}
	err := op(progress)
	mu.Lock()
	defer mu.Unlock()
	switch {
	case err == nil && w == nil:
		return c.NoContent(http.StatusOK)
	case err == nil || w == nil:
		return err
	}
	_ = w.Write(errorLine{Detail: jsonstream.Error{Message: err.Error()}, Message: err.Error()})
	return nil
}

// errorLine is an in-band error: errorDetail, plus the legacy "error".
type errorLine struct {
	Detail  jsonstream.Error `json:"errorDetail"`
	Message string           `json:"error"`
}

// decodeJSON reads a bounded JSON body into v; an empty body leaves v as is.
func decodeJSON(c echo.Context, v any) error {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody)
	err := json.NewDecoder(r).Decode(v)
	var mbe *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &mbe):
		return err
	}
	return errdefs.Errorf(errdefs.InvalidParameter, "invalid JSON: %v", err)
}
