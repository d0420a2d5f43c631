// Package version carries the build's identity, set at link time with
// -ldflags "-X github.com/dockerd-lite/dockerd-lite/internal/version.Version=...".
package version

// Build identity; the Makefile overrides these.
var (
	Version   = "0.1.0-dev"
	GitCommit = "unknown"
	BuildTime = ""
)

// Name is the product name reported in the Server header and /version.
const Name = "dockerd-lite"
