package api

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

var imageListFilters = []string{"dangling", "label", "before", "since", "reference", "until"}

func (h *handlers) getImagesJSON(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	f, err := filters.Parse(q.Get("filters"), imageListFilters...)
	if err != nil {
		return err
	}
	if name := q.Get("filter"); name != "" && versions.LessThan(apiVersion(ctx), "1.41") { // ?filter=repo
		f["reference"] = append(f["reference"], name)
	}
	list, err := h.Images.ImageList(ctx, ImageListOptions{All: boolValue(q.Get("all")), Filters: f})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, imageSummariesForAPI(list, apiVersion(ctx)))
}

func (h *handlers) getImageJSON(c echo.Context, name string) error {
	ctx := c.Request().Context()
	img, err := h.Images.ImageInspect(ctx, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, imageInspectForAPI(img, apiVersion(ctx)))
}

func (h *handlers) getImageHistory(c echo.Context, name string) error {
	hist, err := h.Images.ImageHistory(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hist)
}

func (h *handlers) postImageTag(c echo.Context, name string) error {
	repo, tag := c.QueryParam("repo"), c.QueryParam("tag")
	if repo == "" {
		return errdefs.Errorf(errdefs.InvalidParameter, "repository name (repo) must be given")
	}
	if err := h.Images.ImageTag(c.Request().Context(), name, repo, tag); err != nil {
		return err
	}
	return c.NoContent(http.StatusCreated)
}

func (h *handlers) deleteImage(c echo.Context, name string) error {
	res, err := h.Images.ImageDelete(c.Request().Context(), name, boolValue(c.QueryParam("force")), boolValue(c.QueryParam("noprune")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *handlers) postImagesPrune(c echo.Context) error {
	f, err := filters.Parse(c.QueryParam("filters"), "dangling", "until", "label", "label!")
	if err != nil {
		return err
	}
	rep, err := h.Images.ImagePrune(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// postImagesCreate pulls (fromImage) or imports (fromSrc) an image.
func (h *handlers) postImagesCreate(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	switch {
	case q.Get("fromImage") != "":
		auth, err := registryAuth(c.Request().Header)
		if err != nil {
			return err
		}
		opt := ImagePullOptions{Ref: joinRef(q.Get("fromImage"), q.Get("tag")), Platform: q.Get("platform"), Auth: auth}
		opt.AllTags = q.Get("tag") == "" && !strings.ContainsAny(lastSegment(q.Get("fromImage")), ":@")
		return streamProgress(c, func(p ProgressFunc) error { return h.Images.ImagePull(ctx, opt, p) })
	case q.Get("fromSrc") != "":
		if q.Get("fromSrc") != "-" {
			return errdefs.Errorf(errdefs.NotImplemented, "importing from a URL is not implemented yet; pipe the archive with fromSrc=-")
		}
		opt := ImageImportOptions{Ref: joinRef(q.Get("repo"), q.Get("tag")), Changes: q["changes"], Message: q.Get("message"), Platform: q.Get("platform")}
		body := c.Request().Body
		return streamProgress(c, func(p ProgressFunc) error { return h.Images.ImageImport(ctx, body, opt, p) })
	}
	return errdefs.Errorf(errdefs.InvalidParameter, "fromImage or fromSrc must be given")
}

func (h *handlers) postImagePush(c echo.Context, name string) error {
	ctx := c.Request().Context()
	auth, err := registryAuth(c.Request().Header)
	if err != nil {
		return err
	}
	ref := joinRef(name, c.QueryParam("tag"))
	return streamProgress(c, func(p ProgressFunc) error { return h.Images.ImagePush(ctx, ref, auth, p) })
}

func (h *handlers) postImagesLoad(c echo.Context) error {
	ctx := c.Request().Context()
	body := c.Request().Body
	return streamProgress(c, func(p ProgressFunc) error { return h.Images.ImageLoad(ctx, body, p) })
}

// getImagesGet exports the images named by ?names= (or the one in the path)
// as a docker-archive tar.
func (h *handlers) getImagesGet(c echo.Context, names ...string) error {
	if len(names) == 0 {
		names = c.QueryParams()["names"]
	}
	if len(names) == 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "no images named: pass names=")
	}
	return h.Images.ImageSave(c.Request().Context(), names, func() io.Writer {
		c.Response().Header().Set("Content-Type", "application/x-tar")
		c.Response().WriteHeader(http.StatusOK)
		return c.Response()
	})
}

func (h *handlers) getDistribution(c echo.Context, name string) error {
	auth, err := registryAuth(c.Request().Header)
	if err != nil {
		return err
	}
	d, err := h.Images.DistributionInspect(c.Request().Context(), name, auth)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *handlers) postAuth(c echo.Context) error {
	var auth registry.AuthConfig
	if err := decodeJSON(c, &auth); err != nil {
		return err
	}
	res, err := h.Images.Auth(c.Request().Context(), auth)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// registryAuth decodes X-Registry-Auth (base64url JSON; empty = anonymous).
func registryAuth(hd http.Header) (registry.AuthConfig, error) {
	raw := hd.Get(registry.AuthHeader)
	if raw == "" {
		return registry.AuthConfig{}, nil
	}
	a, err := authconfig.Decode(raw)
	if err != nil {
		if _, err2 := base64.StdEncoding.DecodeString(raw); err2 == nil { // old clients used std encoding
			var ac registry.AuthConfig
			b, _ := base64.StdEncoding.DecodeString(raw)
			if json.Unmarshal(b, &ac) == nil {
				return ac, nil
			}
		}
		return registry.AuthConfig{}, errdefs.InvalidParameter(err)
	}
	return *a, nil
}

func joinRef(repo, tag string) string {
	if tag == "" {
		return repo
	}
	if strings.HasPrefix(tag, "sha256:") {
		return repo + "@" + tag
	}
	return repo + ":" + tag
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

func boolValue(s string) bool {
	switch strings.ToLower(s) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

func (h *handlers) getImagesSearch(c echo.Context) error {
	q := c.QueryParams()
	term := q.Get("term")
	if term == "" {
		return errdefs.Errorf(errdefs.InvalidParameter, "search term must be given: ?term=")
	}
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return errdefs.Errorf(errdefs.InvalidParameter, "limit %q is outside the range of [1, 100]", l)
		}
		limit = n
	}
	auth, err := registryAuth(c.Request().Header)
	if err != nil {
		return err
	}
	res, err := h.Images.ImageSearch(c.Request().Context(), term, limit, auth)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
