package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"
)

// pathStatHeader is the header HEAD and GET /containers/{id}/archive
// describe the path in.
const pathStatHeader = "X-Docker-Container-Path-Stat"

// encodePathStat is the header value: base64 (standard alphabet) of the
// stat as JSON, as dockerd writes it.
func encodePathStat(st container.PathStat) (string, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode path stat: %w", err)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}

// legacyCopyRemoved reports whether POST /containers/{id}/copy is gone at
// this API version (removed in 1.24: dockerd answers 404 with no body).
func legacyCopyRemoved(api string) bool { return versions.GreaterThanOrEqualTo(api, "1.24") }

// commitPause is the pause parameter of POST /commit: true when absent
// from API 1.13 on, as in dockerd.
func commitPause(raw, api string) bool {
	if raw == "" {
		return versions.GreaterThanOrEqualTo(api, "1.13")
	}
	return boolValue(raw)
}
