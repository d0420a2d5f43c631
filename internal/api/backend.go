package api

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/events"
)

// Backends are the engine interfaces the handlers call, one per resource.
// cmd injects the implementations (internal/daemon).
type Backends struct {
	System     SystemBackend
	Images     ImageBackend
	Containers ContainerBackend
	Volumes    VolumeBackend
	Networks   NetworkBackend
	Build      BuildBackend
}

// SystemBackend serves the daemon-wide endpoints. Implementations MUST be
// safe for concurrent use.
type SystemBackend interface {
	// SystemInfo returns the current state for GET /info.
	SystemInfo(ctx context.Context) (*system.Info, error)
	// SystemVersion returns the version details for GET /version.
	SystemVersion(ctx context.Context) (system.VersionResponse, error)
	// SubscribeEvents returns buffered events since the given time that match
	// f, and a channel of later ones, closed when ctx ends.
	SubscribeEvents(ctx context.Context, since time.Time, f events.Filter) ([]events.Event, <-chan events.Event)
	// SystemDiskUsage reports what images, containers and volumes use.
	SystemDiskUsage(ctx context.Context) (DiskUsage, error)
}

// DiskUsage is GET /system/df in the shape of API versions up to 1.47.
type DiskUsage struct {
	LayersSize int64
	Images     []image.Summary
	Containers []container.Summary
	Volumes    []volume.Volume
	BuildCache []struct{}
}
