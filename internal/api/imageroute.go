package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// imagePath is a request path under /images/ split into the image name
// (which may contain slashes, e.g. localhost:5000/team/app:v1) and the
// action after it ("json", "history", "get", "push", "tag"; "" for DELETE).
type imagePath struct {
	Name, Action string
}

// imageHandler serves one action on a named image.
type imageHandler func(h *handlers, c echo.Context, name string) error

// imageActions maps method and action to the handler.
var imageActions = map[string]map[string]imageHandler{
	http.MethodGet: {
		"json":    (*handlers).getImageJSON,
		"history": (*handlers).getImageHistory,
		"get":     func(h *handlers, c echo.Context, name string) error { return h.getImagesGet(c, name) },
	},
	http.MethodPost:   {"push": (*handlers).postImagePush, "tag": (*handlers).postImageTag},
	http.MethodDelete: {"": (*handlers).deleteImage},
}

// parseImagePath parses rest, the path after "/images/", for method. Echo's
// path parameters stop at "/" (labstack/echo#2034), so image routes come here.
func parseImagePath(method, rest string) (imagePath, bool) {
	rest = strings.TrimSuffix(rest, "/")
	if method == http.MethodDelete {
		return imagePath{Name: rest}, rest != ""
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return imagePath{}, false
	}
	p := imagePath{Name: rest[:i], Action: rest[i+1:]}
	if _, ok := imageActions[method][p.Action]; !ok {
		return imagePath{}, false
	}
	return p, true
}

// imageRoute dispatches /images/{name}/{action}.
func (h *handlers) imageRoute(c echo.Context) error {
	method := c.Request().Method
	p, ok := parseImagePath(method, c.Param("*"))
	if !ok {
		return echo.ErrNotFound
	}
	return imageActions[method][p.Action](h, c, p.Name)
}

// distributionRoute dispatches GET /distribution/{name}/json.
func (h *handlers) distributionRoute(c echo.Context) error {
	name, ok := strings.CutSuffix(c.Param("*"), "/json")
	if c.Request().Method != http.MethodGet || !ok || name == "" {
		return echo.ErrNotFound
	}
	return h.getDistribution(c, name)
}
