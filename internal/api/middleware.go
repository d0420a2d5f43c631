package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"sync/atomic"

	"github.com/containerd/log"
	"github.com/labstack/echo/v4"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/version"
)

// The API versions this daemon serves. Unversioned requests get MaxVersion.
const (
	MinVersion = "1.12"
	MaxVersion = "1.47"
)

type versionKey struct{}

// apiVersion returns the API version the request asked for.
func apiVersion(ctx context.Context) string {
	if v, ok := ctx.Value(versionKey{}).(string); ok {
		return v
	}
	return MaxVersion
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)?$`)

// withVersion strips an optional /vX.Y prefix, rejects versions outside
// [MinVersion, MaxVersion] with Docker's wording, and stores the version in
// the request context.
func withVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		v := MaxVersion
		if m := versionPrefix.FindStringSubmatch(req.URL.Path); m != nil {
			v = m[1]
			req.URL.Path = m[2]
			req.URL.RawPath = ""
			if err := checkVersion(v); err != nil {
				return err
			}
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), versionKey{}, v)))
		return next(c)
	}
}

func checkVersion(v string) error {
	if versions.LessThan(v, MinVersion) {
		return errdefs.Errorf(errdefs.InvalidParameter,
			"client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinVersion)
	}
	if versions.GreaterThan(v, MaxVersion) {
		return errdefs.Errorf(errdefs.InvalidParameter,
			"client version %s is too new. Maximum supported API version is %s", v, MaxVersion)
	}
	return nil
}

// serverHeader names the product the way Docker's "Docker/<v> (linux)" does.
var serverHeader = fmt.Sprintf("%s/%s (linux)", version.Name, version.Version)

// withHeaders sets the headers Docker clients read on every response.
func withHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Api-Version", MaxVersion)
		h.Set("Server", serverHeader)
		h.Set("Docker-Experimental", "false")
		h.Set("Ostype", "linux")
		return next(c)
	}
}

// withCORS answers with CORS headers when the daemon was started with
// --api-cors-header (the value is reloadable, hence the func), and answers
// preflight OPTIONS requests for every path.
func withCORS(origin func() string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			o := origin()
			if o == "" {
				return next(c)
			}
			h := c.Response().Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth")
			h.Set("Access-Control-Allow-Methods", "HEAD, GET, POST, DELETE, PUT, OPTIONS")
			if c.Request().Method == http.MethodOptions {
				return c.NoContent(http.StatusOK)
			}
			return next(c)
		}
	}
}

var requestSeq atomic.Uint64

// withLogger puts a request-scoped logger in the context.
func withLogger(base context.Context) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			entry := log.G(base).WithFields(log.Fields{
				"request_id": requestSeq.Add(1),
				"method":     req.Method,
				"path":       req.URL.Path,
			})
			entry.Debug("request")
			c.SetRequest(req.WithContext(log.WithLogger(req.Context(), entry)))
			return next(c)
		}
	}
}

// withRecover turns a handler panic into a 500 error, logged with its stack,
// instead of a dropped connection.
func withRecover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.G(c.Request().Context()).WithField("stack", string(debug.Stack())).Errorf("panic: %v", r)
				err = fmt.Errorf("internal error: %v", r)
			}
		}()
		return next(c)
	}
}
