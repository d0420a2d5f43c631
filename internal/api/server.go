package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Opt configures the API server. Backends are injected by cmd.
type Opt struct {
	Backends
	// CORSOrigin returns the current --api-cors-header value ("" = off).
	CORSOrigin func() string
	// Logger context: request loggers derive from log.G(BaseContext).
	BaseContext context.Context
}

// Server is the HTTP side of the daemon.
type Server struct {
	echo *echo.Echo
	http *http.Server
}

// New builds the server and its route table.
func New(opt Opt) *Server {
	if opt.CORSOrigin == nil {
		opt.CORSOrigin = func() string { return "" }
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = handleError
	e.Pre(withVersion, withHeaders, withCORS(opt.CORSOrigin), withLogger(opt.BaseContext))
	e.Use(withRecover)
	h := &handlers{Backends: opt.Backends}
	h.register(e)
	return &Server{
		echo: e,
		http: &http.Server{
			Handler:           e,
			ReadHeaderTimeout: 30 * time.Second, // no WriteTimeout: streams are long-lived
			BaseContext:       func(net.Listener) context.Context { return opt.BaseContext },
		},
	}
}

// Handler returns the HTTP handler (for tests).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for idle ones; hijacked
// and streaming connections are closed when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return s.http.Close()
	}
	return err
}
