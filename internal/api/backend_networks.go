package api

import (
	"context"

	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// NetworkBackend serves /networks. Implementations MUST be safe for
// concurrent use. Networks are named by ID, ID prefix or name.
type NetworkBackend interface {
	// NetworkList lists the networks that match f (driver, id, label, name,
	// scope, type, dangling).
	NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error)
	// NetworkInspect returns one network with its running endpoints.
	NetworkInspect(ctx context.Context, name string) (network.Inspect, error)
	// NetworkCreate creates a bridge network; a taken name is a Conflict.
	NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	// NetworkConnect connects a container (running or not) to a network.
	NetworkConnect(ctx context.Context, name, container string, ep *network.EndpointSettings) error
	// NetworkDisconnect disconnects a container from a network.
	NetworkDisconnect(ctx context.Context, name, container string, force bool) error
	// NetworkRemove deletes a network; one with running endpoints is a
	// Conflict, a predefined one Forbidden.
	NetworkRemove(ctx context.Context, name string) error
	// NetworksPrune deletes the user-defined networks no container uses.
	NetworksPrune(ctx context.Context, f filters.Args) (network.PruneReport, error)
}
