package oci

import (
	"context"
	"errors"
	"fmt"

	storage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Change kinds as GET /containers/{id}/changes reports them.
const (
	ChangeModify = 0
	ChangeAdd    = 1
	ChangeDelete = 2
)

// Change is one path a read-write layer changed relative to its parent.
type Change struct {
	// Path is absolute inside the container ("/etc/passwd").
	Path string
	// Kind is ChangeModify, ChangeAdd or ChangeDelete.
	Kind int
}

// Changes lists what the read-write layer layerID added, modified or
// deleted compared with the image below it.
func (s *Store) Changes(ctx context.Context, layerID string) ([]Change, error) {
	l, err := s.rwLayer(layerID)
	if err != nil {
		return nil, err
	}
	list, err := s.store.Changes(l.Parent, l.ID)
	if err != nil {
		return nil, fmt.Errorf("compute changes of layer %s: %w", layerID, err)
	}
	out := make([]Change, 0, len(list))
	for _, c := range list {
		out = append(out, Change{Path: c.Path, Kind: changeKind(c.Kind)})
	}
	return out, nil
}

func changeKind(k archive.ChangeType) int {
	switch k {
	case archive.ChangeAdd:
		return ChangeAdd
	case archive.ChangeDelete:
		return ChangeDelete
	}
	return ChangeModify
}

// DiffSize is the size of the files in the read-write layer layerID
// (Docker's SizeRw).
func (s *Store) DiffSize(ctx context.Context, layerID string) (int64, error) {
	l, err := s.rwLayer(layerID)
	if err != nil {
		return 0, err
	}
	n, err := s.store.DiffSize(l.Parent, l.ID)
	if err != nil {
		return 0, fmt.Errorf("measure layer %s: %w", layerID, err)
	}
	return n, nil
}

// rwLayer returns a container's read-write layer.
func (s *Store) rwLayer(layerID string) (*storage.Layer, error) {
	l, err := s.store.Layer(layerID)
	if errors.Is(err, storage.ErrLayerUnknown) {
		return nil, errdefs.NotFound(fmt.Errorf("no such layer: %s", layerID))
	}
	if err != nil {
		return nil, fmt.Errorf("look up layer %s: %w", layerID, err)
	}
	if !isRW(l) {
		return nil, errdefs.InvalidParameter(fmt.Errorf("layer %s is an image layer", layerID))
	}
	return l, nil
}
