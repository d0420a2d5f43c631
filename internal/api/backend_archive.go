package api

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
)

// ExtractOptions are the parameters of PUT /containers/{id}/archive.
type ExtractOptions struct {
	// Path is the directory in the container to extract into.
	Path string
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory and the reverse.
	NoOverwriteDirNonDir bool
	// CopyUIDGID makes the container's user own the extracted files.
	CopyUIDGID bool
	// Content is the tar stream.
	Content io.Reader
}

// CommitOptions are the parameters of POST /commit.
type CommitOptions struct {
	Container string
	// Ref is "repo[:tag]"; empty leaves the image untagged.
	Ref             string
	Comment, Author string
	Pause           bool
	// Changes are Dockerfile instructions (CMD, ENV, ...).
	Changes []string
	// Config is the request body; nil when empty.
	Config *container.Config
}

// ArchiveBackend serves the container file system endpoints. Paths
// resolve inside the container's root: a symlink never leads outside.
// A missing container or path is errdefs.NotFound.
type ArchiveBackend interface {
	// ContainerStatPath describes path (its last symlink is not followed
	// unless path ends in "/" or "/.").
	ContainerStatPath(ctx context.Context, name, path string) (container.PathStat, error)
	// ContainerArchivePath returns path as a tar stream and its stat. The
	// stream must be closed.
	ContainerArchivePath(ctx context.Context, name, path string) (io.ReadCloser, container.PathStat, error)
	// ContainerExtractToDir unpacks a tar stream into a directory.
	ContainerExtractToDir(ctx context.Context, name string, opt ExtractOptions) error
	// ContainerExport returns the container's merged file system as a tar
	// stream. The stream must be closed.
	ContainerExport(ctx context.Context, name string) (io.ReadCloser, error)
	// ContainerChanges lists the read-write layer's changes.
	ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error)
	// ContainerCommit creates an image from the container and returns its ID.
	ContainerCommit(ctx context.Context, opt CommitOptions) (string, error)
}
