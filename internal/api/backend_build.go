package api

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/registry"

	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// BuildOptions are the parameters of POST /build (classic builder).
type BuildOptions struct {
	// Context is the request body: a tar, possibly gzip/bzip2/xz.
	Context     io.Reader
	Dockerfile  string
	Tags        []string
	Quiet       bool
	NoCache     bool
	Pull        bool
	Remove      bool
	ForceRemove bool
	BuildArgs   map[string]*string
	Labels      map[string]string
	Target      string
	Platform    string
	// NetworkMode is the RUN containers' network ("" = default bridge).
	NetworkMode string
	// Auths are the X-Registry-Config credentials, keyed by registry.
	Auths map[string]registry.AuthConfig
}

// BuildBackend serves POST /build and /build/prune. Implementations MUST
// be safe for concurrent use. Invalid parameters (tags, Dockerfile) are
// errdefs.InvalidParameter; once progress began, errors are sent in-band.
type BuildBackend interface {
	// ImageBuild runs the build and reports its output through progress.
	ImageBuild(ctx context.Context, opt BuildOptions, progress ProgressFunc) error
	// BuildPrune removes the classic builder's cache that nothing needs:
	// untagged images made by builds (or commits) that no container and
	// no other image uses; f may hold "until".
	BuildPrune(ctx context.Context, f filters.Args) (build.CachePruneReport, error)
}
