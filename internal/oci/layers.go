package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/umoci/oci/layer"
	storage "go.podman.io/storage"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Layer states kept in the containers/storage layer metadata.
const (
	stateUnpacking = "unpacking" // interrupted unpack: removed at start-up
	stateReadOnly  = "ro"        // an image layer chain
	stateRW        = "rw"        // a container's read-write layer
)

// layerMeta is the JSON stored as a storage layer's metadata.
type layerMeta struct {
	Owner  string        `json:"owner"` // always "dockerd-lite"
	State  string        `json:"state"`
	DiffID digest.Digest `json:"diffID,omitempty"`
	Size   int64         `json:"size,omitempty"` // uncompressed tar bytes
	Image  string        `json:"image,omitempty"`
}

const metaOwner = "dockerd-lite"

func (s *Store) setLayerMeta(id string, m layerMeta) error {
	m.Owner = metaOwner
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.store.SetMetadata(id, string(data)); err != nil {
		return fmt.Errorf("set layer metadata %s: %w", id, err)
	}
	return nil
}

// layerMetaOf returns the metadata of one of our layers; ok is false for
// missing layers and layers this package did not create.
func layerMetaOf(l *storage.Layer) (layerMeta, bool) {
	var m layerMeta
	if l == nil || json.Unmarshal([]byte(l.Metadata), &m) != nil || m.Owner != metaOwner {
		return m, false
	}
	return m, true
}

// readyLayer returns the metadata of a complete read-only layer.
func (s *Store) readyLayer(chainID string) (layerMeta, bool) {
	l, err := s.store.Layer(chainID)
	if err != nil {
		return layerMeta{}, false
	}
	m, ok := layerMetaOf(l)
	return m, ok && m.State == stateReadOnly
}

// unpackFunc writes a layer's content into dir in the given on-disk format
// and returns the diff ID and uncompressed size it saw.
type unpackFunc func(dir string, format layer.OnDiskFormat) (digest.Digest, int64, error)

// createLayer creates the read-only layer chainID on top of parent and fills
// it with unpack. It reports created=false when the layer already existed.
// A failed unpack removes the layer again.
func (s *Store) createLayer(ctx context.Context, chainID, parent string, unpack unpackFunc) (created bool, err error) {
	unlock := s.layerMu.lock(chainID)
	defer unlock()
	if _, ok := s.readyLayer(chainID); ok {
		return false, nil
	}
	if l, err := s.store.Layer(chainID); err == nil {
		// A stale unpack from a crashed run: start over.
		if err := s.store.DeleteLayer(l.ID); err != nil {
			return false, fmt.Errorf("remove stale layer %s: %w", chainID, err)
		}
	}
	if _, err := s.store.CreateLayer(chainID, parent, nil, "", false, nil); err != nil {
		return false, fmt.Errorf("create layer %s: %w", chainID, err)
	}
	defer func() {
		if err != nil {
			if derr := s.store.DeleteLayer(chainID); derr != nil {
				log.G(ctx).WithError(derr).WithField("layer", chainID).Debug("remove failed layer")
			}
		}
	}()
	if err := s.setLayerMeta(chainID, layerMeta{State: stateUnpacking}); err != nil {
		return false, err
	}
	diffID, size, err := s.unpackLayer(chainID, unpack)
	if err != nil {
		return false, err
	}
	return true, s.setLayerMeta(chainID, layerMeta{State: stateReadOnly, DiffID: diffID, Size: size})
}

// unpackLayer resolves where the layer's own content lives for the graph
// driver (overlay: the upper "diff" directory with overlay whiteouts; vfs:
// the layer directory itself) and runs unpack there.
func (s *Store) unpackLayer(id string, unpack unpackFunc) (digest.Digest, int64, error) {
	mapOpt := layer.MapOptions{Rootless: s.rootless}
	if s.driver == DriverVFS {
		dir, err := s.store.Mount(id, "")
		if err != nil {
			return "", 0, fmt.Errorf("mount layer %s: %w", id, err)
		}
		defer s.store.Unmount(id, false) //nolint:errcheck // vfs unmount is bookkeeping only
		return unpack(dir, layer.DirRootfs{MapOptions: mapOpt})
	}
	drv, err := s.store.GraphDriver()
	if err != nil {
		return "", 0, fmt.Errorf("get graph driver: %w", err)
	}
	md, err := drv.Metadata(id)
	if err != nil || md["UpperDir"] == "" {
		return "", 0, fmt.Errorf("locate layer %s: %w", id, errors.Join(err, errors.New("no upper directory")))
	}
	return unpack(md["UpperDir"], layer.OverlayfsRootfs{MapOptions: mapOpt, UserXattr: true})
}

// layerSize is the uncompressed size recorded for a read-only layer.
func (s *Store) layerSize(chainID string) int64 {
	m, _ := s.readyLayer(chainID)
	return m.Size
}

// releaseLayers removes the given chain (bottom first order) from the top
// down while no image references a layer and it has no child layer.
func (s *Store) releaseLayers(ctx context.Context, chain []string) {
	used := s.referencedLayers()
	for i := len(chain) - 1; i >= 0; i-- {
		id := chain[i]
		if used[id] || s.hasChildren(id) || s.inflight.held(id) {
			return
		}
		unlock := s.layerMu.lock(id)
		err := s.store.DeleteLayer(id)
		unlock()
		if err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
			log.G(ctx).WithError(err).WithField("layer", id).Warn("remove layer")
			return
		}
	}
}

func (s *Store) referencedLayers() map[string]bool {
	used := map[string]bool{}
	for _, r := range s.refs.snapshot() {
		for _, l := range r.Layers {
			used[l] = true
		}
	}
	return used
}

func (s *Store) hasChildren(id string) bool {
	layers, err := s.store.Layers()
	if err != nil {
		return true
	}
	return slices.ContainsFunc(layers, func(l storage.Layer) bool { return l.Parent == id })
}

// collectLayers removes layers of interrupted unpacks and read-only layers
// no image references (a pull killed between unpack and record).
func (s *Store) collectLayers(ctx context.Context) error {
	layers, err := s.store.Layers()
	if err != nil {
		return fmt.Errorf("list layers: %w", err)
	}
	used := s.referencedLayers()
	parentOf := map[string]string{}
	for _, l := range layers {
		parentOf[l.ID] = l.Parent
	}
	for _, l := range layers {
		if isRW(&l) {
			for id := l.Parent; id != ""; id = parentOf[id] {
				used[id] = true
			}
		}
	}
	var victims []storage.Layer
	for _, l := range layers {
		m, ok := layerMetaOf(&l)
		if ok && m.State != stateRW && !used[l.ID] {
			victims = append(victims, l)
		}
	}
	depth := func(id string) int {
		n := 0
		for ; parentOf[id] != ""; id = parentOf[id] {
			n++
		}
		return n
	}
	sort.Slice(victims, func(i, j int) bool { return depth(victims[i].ID) > depth(victims[j].ID) })
	for _, l := range victims {
		if s.hasChildren(l.ID) {
			continue
		}
		log.G(ctx).WithField("layer", l.ID).Info("removing unreferenced layer")
		if err := s.store.DeleteLayer(l.ID); err != nil {
			return fmt.Errorf("remove layer %s: %w", l.ID, err)
		}
	}
	return nil
}

func isRW(l *storage.Layer) bool {
	m, ok := layerMetaOf(l)
	return ok && m.State == stateRW
}

// CreateRWLayer creates the read-write layer id (a container's file
// system) on top of the image's top layer and returns its ID.
func (s *Store) CreateRWLayer(ctx context.Context, imageID, id string) (string, error) {
	img, err := s.Get(ctx, imageID)
	if err != nil {
		return "", err
	}
	if _, err := s.store.CreateLayer(id, img.TopLayer, nil, "", true, nil); err != nil {
		if errors.Is(err, storage.ErrDuplicateID) {
			return "", errdefs.Conflict(fmt.Errorf("layer %s already exists", id))
		}
		return "", fmt.Errorf("create read-write layer: %w", err)
	}
	if err := s.setLayerMeta(id, layerMeta{State: stateRW, Image: img.ID}); err != nil {
		_ = s.store.DeleteLayer(id)
		return "", err
	}
	return id, nil
}

// Mount mounts a layer (with its parents) and returns the merged path.
// Mounts are counted; each Mount needs an Unmount.
func (s *Store) Mount(ctx context.Context, layerID string) (string, error) {
	p, err := s.store.Mount(layerID, "")
	if err != nil {
		if errors.Is(err, storage.ErrLayerUnknown) {
			return "", errdefs.NotFound(fmt.Errorf("no such layer: %s", layerID))
		}
		return "", fmt.Errorf("mount layer %s: %w", layerID, err)
	}
	log.G(ctx).WithField("layer", layerID).Debug("layer mounted")
	return p, nil
}

// Unmount drops one mount reference of the layer.
func (s *Store) Unmount(ctx context.Context, layerID string) error {
	if _, err := s.store.Unmount(layerID, false); err != nil {
		if errors.Is(err, storage.ErrLayerUnknown) {
			return errdefs.NotFound(fmt.Errorf("no such layer: %s", layerID))
		}
		return fmt.Errorf("unmount layer %s: %w", layerID, err)
	}
	return nil
}

// RemoveLayer deletes a read-write layer, unmounting it first.
func (s *Store) RemoveLayer(ctx context.Context, layerID string) error {
	l, err := s.store.Layer(layerID)
	if err != nil {
		return errdefs.NotFound(fmt.Errorf("no such layer: %s", layerID))
	}
	if !isRW(l) {
		return errdefs.InvalidParameter(fmt.Errorf("layer %s is an image layer", layerID))
	}
	if _, err := s.store.Unmount(layerID, true); err != nil && !errors.Is(err, storage.ErrLayerNotMounted) {
		log.G(ctx).WithError(err).WithField("layer", layerID).Debug("unmount before remove")
	}
	if err := s.store.DeleteLayer(layerID); err != nil {
		return fmt.Errorf("remove layer %s: %w", layerID, err)
	}
	return nil
}
