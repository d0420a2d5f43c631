package api

import (
	"context"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/api/stream"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// ContainerCreateOptions is the body and query of POST /containers/create.
type ContainerCreateOptions struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	Networking *network.NetworkingConfig
	Platform   string
}

// ContainerListOptions are the parameters of GET /containers/json.
type ContainerListOptions struct {
	All     bool
	Limit   int
	Size    bool
	Filters filters.Args
}

// StopOptions are the parameters of stop and restart.
type StopOptions struct {
	Signal  string
	Timeout *int // seconds; nil = the container's StopTimeout or 10
}

// RemoveOptions are the parameters of DELETE /containers/{id}.
type RemoveOptions struct {
	Force, RemoveVolumes, RemoveLink bool
}

// WaitResult is how a container wait ended.
type WaitResult struct {
	StatusCode int
	Error      string
}

// ErrDetached ends a client's stdin when it typed the detach keys: the
// backend stops streaming and leaves the container (and its stdin) as is.
var ErrDetached = stream.ErrDetached

// Streams are a hijacked client connection's stdio, in the framing the
// backend asked for. Stdin is nil when the client does not send it.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// CloseWrite tells the client no more output will come (half-close).
	CloseWrite func() error
}

// OpenStreams hijacks the connection. The backend calls it only after it
// validated the request, so errors before that are ordinary JSON errors.
// tty selects raw output (no stdcopy frames).
type OpenStreams func(tty bool) (*Streams, error)

// AttachOptions are the parameters of POST /containers/{id}/attach.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
	Logs, Stream          bool
	Open                  OpenStreams
}

// LogsOptions are the parameters of GET /containers/{id}/logs.
type LogsOptions struct {
	Stdout, Stderr, Follow bool
	Since, Until           time.Time
	Tail                   int // -1: all
}

// LogMessage is one log line, or an error that ends the stream.
type LogMessage struct {
	Stream string // "stdout" or "stderr"
	Line   []byte
	Time   time.Time
	Err    error
}

// ExecStartOptions are the parameters of POST /exec/{id}/start.
type ExecStartOptions struct {
	Detach bool
	Tty    bool
	Open   OpenStreams
}

// ContainerBackend serves the container endpoints. Implementations MUST be
// safe for concurrent use. Unknown containers are errdefs.NotFound ("No
// such container: x"); starting a running or stopping a stopped container
// is errdefs.NotModified.
type ContainerBackend interface {
	ArchiveBackend
	ContainerCreate(ctx context.Context, opt ContainerCreateOptions) (container.CreateResponse, error)
	ContainerList(ctx context.Context, opt ContainerListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, name string, size bool) (container.InspectResponse, error)
	ContainerStart(ctx context.Context, name string) error
	// ContainerSetHostConfig replaces a container's host configuration
	// before it starts (POST /containers/{id}/start before API 1.24).
	ContainerSetHostConfig(ctx context.Context, name string, hc *container.HostConfig) error
	ContainerStop(ctx context.Context, name string, opt StopOptions) error
	ContainerRestart(ctx context.Context, name string, opt StopOptions) error
	ContainerKill(ctx context.Context, name, signal string) error
	// ContainerWait resolves the container and takes the wait's baseline
	// before returning; the result arrives on the channel.
	ContainerWait(ctx context.Context, name, condition string) (<-chan WaitResult, error)
	ContainerRemove(ctx context.Context, name string, opt RemoveOptions) error
	ContainerRename(ctx context.Context, name, newName string) error
	ContainerResize(ctx context.Context, name string, height, width uint) error
	ContainerAttach(ctx context.Context, name string, opt AttachOptions) error
	// ContainerLogs returns the log stream and whether the container has a
	// TTY (then stdout and stderr are one raw stream).
	ContainerLogs(ctx context.Context, name string, opt LogsOptions) (<-chan LogMessage, bool, error)
	ExecCreate(ctx context.Context, name string, req container.ExecCreateRequest) (string, error)
	ExecStart(ctx context.Context, id string, opt ExecStartOptions) error
	ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error)
	ExecResize(ctx context.Context, id string, height, width uint) error
	ContainerPrune(ctx context.Context, f filters.Args) (container.PruneReport, error)
	// ContainerTop lists the container's processes as `ps psArgs` shows
	// them; a container that is not running is errdefs.Conflict.
	ContainerTop(ctx context.Context, name, psArgs string) (container.TopResponse, error)
	// ContainerStats returns the samples of GET /containers/{id}/stats; the
	// channel is closed after the last one (or when ctx ends).
	ContainerStats(ctx context.Context, name string, opt StatsOptions) (<-chan container.StatsResponse, error)
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	// ContainerUpdate changes the restart policy and resources.
	ContainerUpdate(ctx context.Context, name string, cfg container.UpdateConfig) (container.UpdateResponse, error)
}

// StatsOptions are the parameters of GET /containers/{id}/stats.
type StatsOptions struct {
	// Stream sends a sample every second until the container stops.
	Stream bool
	// OneShot skips the pre-sample of a single (non-streamed) sample, so
	// precpu_stats stays empty.
	OneShot bool
}
