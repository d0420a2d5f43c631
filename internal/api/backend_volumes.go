package api

import (
	"context"

	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// VolumeBackend serves /volumes. Implementations MUST be safe for
// concurrent use. Errors carry errdefs classes: NotFound for a missing
// volume, Conflict for one in use, InvalidParameter for bad input.
type VolumeBackend interface {
	// VolumeList returns the volumes matching the filters dangling, name,
	// label and driver.
	VolumeList(ctx context.Context, f filters.Args) ([]volume.Volume, error)
	// VolumeCreate creates a volume, or returns the existing one of that
	// name (idempotent, as in Docker).
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error)
	// VolumeInspect returns one volume.
	VolumeInspect(ctx context.Context, name string) (volume.Volume, error)
	// VolumeRemove removes an unused volume; force ignores a missing one.
	VolumeRemove(ctx context.Context, name string, force bool) error
	// VolumePrune removes unused volumes matching the filters label,
	// label! and all (anonymous ones only unless all=true).
	VolumePrune(ctx context.Context, f filters.Args) (volume.PruneReport, error)
}
