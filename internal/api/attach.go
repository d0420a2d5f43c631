package api

import (
	"io"
	"net/http"

	"github.com/containerd/log"
	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// hijacker opens the client's streams on the backend's call. After the
// hijack nothing can be written as an HTTP error: failures are logged and
// the connection closed.
type hijacker struct {
	c          echo.Context
	detachKeys string
	websocket  bool
	conn       *stream.Streams
}

func newHijacker(c echo.Context, detachKeys string, websocket bool) (*hijacker, error) {
	if detachKeys != "" {
		if _, err := stream.ParseDetachKeys(detachKeys); err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
	}
	return &hijacker{c: c, detachKeys: detachKeys, websocket: websocket}, nil
}

func (h *hijacker) open(tty bool) (*Streams, error) {
	req, w := h.c.Request(), h.c.Response()
	var err error
	if h.websocket {
		h.conn, err = stream.UpgradeWebsocket(w, req, apiVersion(req.Context()))
	} else {
		h.conn, err = stream.Hijack(w, req, stream.ContentType(tty, apiVersion(req.Context())), !tty)
	}
	if err != nil {
		return nil, err
	}
	var stdin io.Reader = h.conn.Stdin
	if h.detachKeys != "" && tty { // as dockerd: detach keys apply to TTY sessions only

		if stdin, err = stream.NewDetachReader(stdin, h.detachKeys); err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
	}
	return &Streams{Stdin: stdin, Stdout: h.conn.Stdout, Stderr: h.conn.Stderr, CloseWrite: h.conn.CloseWrite}, nil
}

// finish ends a hijacked exchange: before the hijack err is an ordinary
// API error; after it, it can only be logged.
func (h *hijacker) finish(err error) error {
	if h.conn == nil {
		return err
	}
	if err != nil {
		log.G(h.c.Request().Context()).WithError(err).Warn("stream ended with an error")
	}
	_ = h.conn.Close()
	return nil
}

func (h *handlers) postContainerAttach(c echo.Context) error {
	return h.attach(c, false)
}

func (h *handlers) getContainerAttachWS(c echo.Context) error {
	return h.attach(c, true)
}

func (h *handlers) attach(c echo.Context, websocket bool) error {
	q := c.QueryParams()
	keys := q.Get("detachKeys")
	if keys == "" && boolValue(q.Get("stdin")) {
		keys = stream.DefaultDetachKeys // dockerd's default
	}
	hj, err := newHijacker(c, keys, websocket)
	if err != nil {
		return err
	}
	opt := AttachOptions{Stdin: boolValue(q.Get("stdin")), Stdout: boolValue(q.Get("stdout")), Stderr: boolValue(q.Get("stderr")),
		Logs: boolValue(q.Get("logs")), Stream: boolValue(q.Get("stream")), Open: hj.open}
	return hj.finish(h.Containers.ContainerAttach(c.Request().Context(), c.Param("id"), opt))
}

func (h *handlers) postContainerExec(c echo.Context) error {
	var req container.ExecCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id, err := h.Containers.ExecCreate(c.Request().Context(), c.Param("id"), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"Id": id})
}

func (h *handlers) postExecStart(c echo.Context) error {
	var req container.ExecStartRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	hj, err := newHijacker(c, "", false)
	if err != nil {
		return err
	}
	err = h.Containers.ExecStart(c.Request().Context(), c.Param("id"), ExecStartOptions{Detach: req.Detach, Tty: req.Tty, Open: hj.open})
	if hj.conn == nil && err == nil {
		return c.NoContent(http.StatusOK) // detached
	}
	return hj.finish(err)
}

func (h *handlers) getExecJSON(c echo.Context) error {
	res, err := h.Containers.ExecInspect(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *handlers) postExecResize(c echo.Context) error {
	height, width, err := consoleSize(c)
	if err != nil {
		return err
	}
	if err := h.Containers.ExecResize(c.Request().Context(), c.Param("id"), height, width); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}
