package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// postBuild runs a classic build: the body is the context, the output a
// JSON stream (errors after the first line are in-band).
func (h *handlers) postBuild(c echo.Context) error {
	opt, err := buildOptions(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	version := apiVersion(ctx)
	return streamProgress(c, func(progress ProgressFunc) error {
		return h.Build.ImageBuild(ctx, opt, func(m jsonstream.Message) {
			if m.Aux != nil && versions.LessThan(version, "1.30") {
				return // the aux result message exists from API 1.30
			}
			progress(m)
		})
	})
}

// postBuildPrune removes unused build images. Storage targets
// (keep-storage, reserved-space, ...) cannot be honoured by image
// removal and are refused rather than ignored.
func (h *handlers) postBuildPrune(c echo.Context) error {
	q := c.QueryParams()
	for _, p := range []string{"keep-storage", "reserved-space", "max-used-space", "min-free-space"} {
		if v := q.Get(p); v != "" && v != "0" {
			return errdefs.Errorf(errdefs.NotImplemented, "build cache prune with %s is not supported", p)
		}
	}
	f, err := filters.Parse(q.Get("filters"), "until")
	if err != nil {
		return err
	}
	rep, err := h.Build.BuildPrune(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if rep.CachesDeleted == nil {
		rep.CachesDeleted = []string{}
	}
	return c.JSON(http.StatusOK, rep)
}

// buildOptions binds the query and the X-Registry-Config header.
func buildOptions(c echo.Context) (BuildOptions, error) {
	q := c.QueryParams()
	if q.Get("remote") != "" {
		return BuildOptions{}, errdefs.Errorf(errdefs.NotImplemented, "builds from a remote context (remote=) are not supported; send the context as a tar")
	}
	if v := q.Get("version"); v != "" && v != "1" {
		return BuildOptions{}, errdefs.Errorf(errdefs.NotImplemented, "BuildKit (builder version %s) is not supported; use the classic builder (DOCKER_BUILDKIT=0)", v)
	}
	opt := BuildOptions{
		Context: c.Request().Body, Dockerfile: q.Get("dockerfile"), Tags: q["t"], Quiet: boolValue(q.Get("q")),
		NoCache: boolValue(q.Get("nocache")), Pull: boolValue(q.Get("pull")), Remove: q.Get("rm") == "" || boolValue(q.Get("rm")),
		ForceRemove: boolValue(q.Get("forcerm")), Target: q.Get("target"), Platform: q.Get("platform"),
		NetworkMode: q.Get("networkmode"),
	}
	if err := jsonParam(q.Get("buildargs"), &opt.BuildArgs); err != nil {
		return opt, err
	}
	if err := jsonParam(q.Get("labels"), &opt.Labels); err != nil {
		return opt, err
	}
	auths, err := registryConfig(c.Request().Header)
	opt.Auths = auths
	return opt, err
}

// jsonParam decodes a JSON-valued query parameter ("" leaves v as is).
func jsonParam(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid JSON in query parameter: %v", err)
	}
	return nil
}

// registryConfig decodes X-Registry-Config: base64url JSON of auths keyed
// by registry (older clients used standard base64).
func registryConfig(hd http.Header) (map[string]registry.AuthConfig, error) {
	raw := hd.Get("X-Registry-Config")
	if raw == "" {
		return nil, nil
	}
	data, err := base64.URLEncoding.DecodeString(raw)
	if err != nil {
		if data, err = base64.StdEncoding.DecodeString(raw); err != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid X-Registry-Config header: %v", err)
		}
	}
	var auths map[string]registry.AuthConfig
	if err := json.Unmarshal(data, &auths); err != nil {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid X-Registry-Config header: %v", err)
	}
	return auths, nil
}
