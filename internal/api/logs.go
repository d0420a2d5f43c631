package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/pkg/stdcopy"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// logTimeFormat is RFC 3339 with always nine fractional digits, as docker
// logs -t prints them.
const logTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// getContainerLogs validates everything, then commits the response: after
// that point errors end the stream (moby's "point of no return").
func (h *handlers) getContainerLogs(c echo.Context) error {
	ctx := c.Request().Context()
	opt, timestamps, err := logsOptions(c)
	if err != nil {
		return err
	}
	msgs, tty, err := h.Containers.ContainerLogs(ctx, c.Param("id"), opt)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Type", stream.ContentType(tty, apiVersion(ctx)))
	c.Response().WriteHeader(http.StatusOK)
	rc := http.NewResponseController(c.Response())
	_ = rc.Flush()
	var out, errOut io.Writer = c.Response(), c.Response()
	if !tty {
		out, errOut = stream.NewFrameWriter(c.Response(), stdcopy.Stdout, nil), stream.NewFrameWriter(c.Response(), stdcopy.Stderr, nil)
	}
	for m := range msgs {
		if m.Err != nil {
			fmt.Fprintf(stream.NewFrameWriter(c.Response(), stdcopy.Systemerr, nil), "error from daemon in stream: %v\n", m.Err)
			return nil
		}
		w := out
		if m.Stream == "stderr" {
			w = errOut
		}
		line := m.Line
		if timestamps {
			line = append([]byte(m.Time.UTC().Format(logTimeFormat)+" "), line...)
		}
		if _, err := w.Write(line); err != nil {
			return nil
		}
		_ = rc.Flush()
	}
	return nil
}

func logsOptions(c echo.Context) (LogsOptions, bool, error) {
	q := c.QueryParams()
	opt := LogsOptions{Stdout: boolValue(q.Get("stdout")), Stderr: boolValue(q.Get("stderr")), Follow: boolValue(q.Get("follow")), Tail: -1}
	if !opt.Stdout && !opt.Stderr {
		return opt, false, errdefs.Errorf(errdefs.InvalidParameter, "Bad parameters: you must choose at least one stream")
	}
	var err error
	if opt.Since, err = filters.ParseTimestamp(q.Get("since")); err != nil {
		return opt, false, err
	}
	if opt.Until, err = filters.ParseTimestamp(q.Get("until")); err != nil {
		return opt, false, err
	}
	// As dockerd: a tail that is not a count ("all", "-1", "x") means all.
	if n, err := strconv.Atoi(q.Get("tail")); err == nil && n >= 0 {
		opt.Tail = n
	}
	return opt, boolValue(q.Get("timestamps")), nil
}
