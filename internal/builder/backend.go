package builder

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
)

// Image is what a build needs to know of an image.
type Image struct {
	// ID is the image ID ("sha256:...").
	ID string
	// Config is the image's container config (Env, Cmd, OnBuild, ...).
	Config container.Config
}

// Output receives the build's progress messages, in order.
type Output func(jsonstream.Message)

// Backend is what the builder needs from the engine. Implementations
// MUST be safe for concurrent use. Unknown images are errdefs.NotFound.
type Backend interface {
	// ImageGet returns a local image by name or ID.
	ImageGet(ctx context.Context, name string) (Image, error)
	// ImagePull pulls name with the matching credentials of auths
	// (keyed by registry) and reports progress to out.
	ImagePull(ctx context.Context, name string, auths map[string]registry.AuthConfig, out Output) (Image, error)
	// ScratchImage returns an image without content to build FROM scratch on.
	ScratchImage(ctx context.Context) (Image, error)
	// CacheLookup returns the ID of an image whose parent is parentID,
	// whose last history entry was created by createdBy and whose config
	// equals cfg; "" when there is none.
	CacheLookup(ctx context.Context, parentID, createdBy string, cfg *container.Config) (string, error)
	// ContainerCreate creates a build container from imageID running cfg.
	ContainerCreate(ctx context.Context, imageID string, cfg *container.Config) (string, error)
	// ContainerRun starts the container, copies its output to out and
	// returns its exit code once it ended.
	ContainerRun(ctx context.Context, id string, out io.Writer) (int, error)
	// ContainerCopy extracts the tar stream content at the container's
	// root. A non-empty chown ("user[:group]") owns every entry.
	ContainerCopy(ctx context.Context, id string, content io.Reader, chown string) error
	// ContainerArchive returns a tar of path in the container, its top
	// entry named after the path's last element.
	ContainerArchive(ctx context.Context, id, path string) (io.ReadCloser, error)
	// ContainerIsDir reports whether path is a directory (symlinks
	// followed) in the container; a missing path is false, not an error.
	ContainerIsDir(ctx context.Context, id, path string) (bool, error)
	// ContainerMkdir creates path (and its parents) in the container.
	ContainerMkdir(ctx context.Context, id, path string) error
	// ContainerCommit commits the container as a new image whose parent
	// is the container's image; it returns the image ID.
	ContainerCommit(ctx context.Context, opt CommitOptions) (string, error)
	// ContainerRemove removes the container and its anonymous volumes.
	ContainerRemove(ctx context.Context, id string) error
	// ImageTag tags imageID as ref ("name[:tag]") and returns the tag in
	// its familiar form ("name:latest").
	ImageTag(ctx context.Context, imageID, ref string) (string, error)
}

// CommitOptions configure Backend.ContainerCommit.
type CommitOptions struct {
	// Container is the build container.
	Container string
	// CreatedBy and Author go into the new history entry.
	CreatedBy, Author string
	// Config is the new image's config, exactly.
	Config *container.Config
}

// Options are the parameters of one build (POST /build).
type Options struct {
	// Context is the build context: a tar stream, possibly compressed.
	Context io.Reader
	// Dockerfile is the Dockerfile's path in the context ("Dockerfile").
	Dockerfile string
	// Tags are the references to tag the result with.
	Tags []string
	// Quiet suppresses the step output.
	Quiet bool
	// NoCache disables the cache; Pull always pulls FROM images.
	NoCache, Pull bool
	// Remove removes intermediate containers (ForceRemove: always; the
	// daemon treats both alike: a build never leaves containers behind).
	Remove, ForceRemove bool
	// BuildArgs are --build-arg values; a nil value (a name the CLI found
	// no value for) leaves the ARG's default in place.
	BuildArgs map[string]*string
	// Labels are set on the final image.
	Labels map[string]string
	// Target is the stage to stop at ("" = the last).
	Target string
	// Platform is the requested platform ("" = the daemon's).
	Platform string
	// Auths are the X-Registry-Config credentials, keyed by registry.
	Auths map[string]registry.AuthConfig
	// TempDir is where the context is unpacked (removed afterwards).
	TempDir string
	// Unstored lists the instructions ("healthcheck", "shell",
	// "onbuild") whose config field the image store cannot record; the
	// build warns when it meets them.
	Unstored []string
}
