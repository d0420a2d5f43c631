package api

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"

	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// ProgressFunc receives progress of a pull, push, import or load, one
// message per call, as the typed records the CLI draws as bars. The API
// layer renders and flushes them; backends never write wire bytes.
type ProgressFunc func(jsonstream.Message)

// ImageListOptions are the parameters of GET /images/json.
type ImageListOptions struct {
	All     bool
	Filters filters.Args // dangling, label, before, since, reference
}

// ImagePullOptions are the parameters of POST /images/create?fromImage=.
type ImagePullOptions struct {
	Ref      string // normalised by the backend; may carry a tag or digest
	AllTags  bool
	Platform string // "os/arch[/variant]" or ""
	Auth     registry.AuthConfig
}

// ImageImportOptions are the parameters of POST /images/create?fromSrc=.
type ImageImportOptions struct {
	Ref      string // repo[:tag], may be empty
	Changes  []string
	Message  string
	Platform string
}

// ImageInspect is an image's details: the current wire shape plus the
// fields the API versions up to MaxVersion still carry.
type ImageInspect struct {
	image.InspectResponse
	Parent string
}

// ImageBackend serves the image endpoints. Implementations MUST be safe for
// concurrent use. Unknown images are errdefs.NotFound ("No such image: x");
// an image in use, or ambiguous deletes, are errdefs.Conflict.
type ImageBackend interface {
	ImageList(ctx context.Context, opt ImageListOptions) ([]image.Summary, error)
	ImageInspect(ctx context.Context, name string) (ImageInspect, error)
	ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error)
	ImageTag(ctx context.Context, name, repo, tag string) error
	ImageDelete(ctx context.Context, name string, force, noprune bool) ([]image.DeleteResponse, error)
	ImagePrune(ctx context.Context, f filters.Args) (image.PruneReport, error)
	// ImagePull, ImagePush, ImageImport and ImageLoad report through
	// progress; an error they return after progress began is sent in-band.
	ImagePull(ctx context.Context, opt ImagePullOptions, progress ProgressFunc) error
	ImagePush(ctx context.Context, name string, auth registry.AuthConfig, progress ProgressFunc) error
	ImageImport(ctx context.Context, src io.Reader, opt ImageImportOptions, progress ProgressFunc) error
	ImageLoad(ctx context.Context, src io.Reader, progress ProgressFunc) error
	// ImageSave validates names before writing anything to w.
	ImageSave(ctx context.Context, names []string, w func() io.Writer) error
	DistributionInspect(ctx context.Context, name string, auth registry.AuthConfig) (registry.DistributionInspect, error)
	// Auth checks credentials against the registry (errdefs.Unauthorized
	// with the registry's reason when it refuses them).
	Auth(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error)
	// ImageSearch queries the registry's search API (errdefs.Unavailable
	// when it cannot be reached).
	ImageSearch(ctx context.Context, term string, limit int, auth registry.AuthConfig) ([]registry.SearchResult, error)
}
