package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker schema2 media types (the OCI ones come from image-spec).
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// mediaTypeOf reads a manifest's mediaType field (OCI manifest if absent).
func mediaTypeOf(data []byte) string {
	var v struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(data, &v) == nil && v.MediaType != "" {
		return v.MediaType
	}
	return ocispec.MediaTypeImageManifest
}

// manifestOf reads a stored image manifest (schema2 and OCI share the shape).
func (s *Store) manifestOf(d digest.Digest) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	err := s.blobs.readJSON(d, &m)
	return m, err
}

// usedBlobs lists the blobs the remaining images need.
func (s *Store) usedBlobs() map[digest.Digest]bool {
	used := map[digest.Digest]bool{}
	for _, r := range s.refs.snapshot() {
		used[r.ManifestDigest], used[r.ConfigDigest] = true, true
		m, err := s.manifestOf(r.ManifestDigest)
		if err != nil {
			continue
		}
		for _, l := range m.Layers {
			used[l.Digest] = true
		}
	}
	return used
}

// releaseBlobs deletes the blobs of a deleted image that no other image
// needs, and rewrites index.json.
func (s *Store) releaseBlobs(ctx context.Context, r record) {
	used := s.usedBlobs()
	candidates := []digest.Digest{r.ManifestDigest, r.ConfigDigest}
	if m, err := s.manifestOf(r.ManifestDigest); err == nil {
		for _, l := range m.Layers {
			candidates = append(candidates, l.Digest)
		}
	}
	for _, d := range candidates {
		if d != "" && !used[d] {
			if err := s.blobs.remove(d); err != nil {
				log.G(ctx).WithError(err).Warn("remove blob")
			}
		}
	}
	if err := s.writeIndex(); err != nil {
		log.G(ctx).WithError(err).Warn("write index")
	}
}

// HistoryItem is one entry of GET /images/{name}/history, newest first.
type HistoryItem struct {
	ID        string `json:"Id"`
	Created   int64
	CreatedBy string
	Tags      []string
	Size      int64
	Comment   string
}

// History lists the image's history, newest first, with the size of each
// entry's layer; entries other than the top are "<missing>", as in Docker
// for pulled images.
func (s *Store) History(ctx context.Context, nameOrID string) ([]HistoryItem, error) {
	img, err := s.Get(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	hist := img.Config.History
	if len(hist) == 0 {
		for range img.Layers {
			hist = append(hist, ocispec.History{Created: img.Config.Created})
		}
	}
	items := make([]HistoryItem, 0, len(hist))
	layer := 0
	for _, h := range hist {
		it := HistoryItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: nil}
		if h.Created != nil {
			it.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			it.Size = s.layerSize(img.Layers[layer])
			layer++
		}
		items = append(items, it)
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	s.nameAncestors(ctx, img, items)
	return items, nil
}

// nameAncestors gives each history entry that ends a local image of img's
// parent chain (commit, build) that image's ID and tags, as dockerd does;
// the others stay "<missing>".
func (s *Store) nameAncestors(ctx context.Context, img Image, items []HistoryItem) {
	for n := len(items); ; {
		if k := len(items) - n; k >= 0 && k < len(items) {
			items[k].ID, items[k].Tags = img.ID, img.RepoTags
		}
		if img.Parent == "" {
			return
		}
		parent, err := s.Get(ctx, img.Parent)
		if err != nil {
			return
		}
		img, n = parent, len(parent.Config.History)
	}
}

// Prune deletes dangling images (no tags) or, with dangling false, every
// image no container uses (inUse reports that). It returns what it
// deleted and the bytes of layers removed.
func (s *Store) Prune(ctx context.Context, dangling bool, inUse func(imageID string) bool) ([]DeleteItem, int64, error) {
	var items []DeleteItem
	var reclaimed int64
	for _, r := range s.refs.snapshot() {
		if (dangling && len(r.RepoTags) > 0) || (inUse != nil && inUse(r.ID)) || s.isParent(r.ID) {
			continue
		}
		sizes := s.layerSizes(r.Layers)
		del, err := s.Remove(ctx, r.ID, true, false)
		if err != nil {
			return items, reclaimed, fmt.Errorf("prune image %s: %w", shortID(r.ID), err)
		}
		for _, it := range del {
			reclaimed += sizes["sha256:"+trimAlgo(it.Deleted)]
		}
		items = append(items, del...)
	}
	return items, reclaimed, nil
}

func trimAlgo(s string) string {
	if len(s) > 7 && s[:7] == "sha256:" {
		return s[7:]
	}
	return s
}

func (s *Store) layerSizes(layers []string) map[string]int64 {
	out := map[string]int64{}
	for _, l := range layers {
		out["sha256:"+l] = s.layerSize(l)
	}
	return out
}

func (s *Store) isParent(id string) bool {
	s.refs.mu.Lock()
	defer s.refs.mu.Unlock()
	return hasChildImage(s.refs.byID, id)
}

// DiskUsage is an image's share of disk for GET /system/df.
type DiskUsage struct {
	ID         string
	Size       int64 // all layers
	SharedSize int64 // layers other images use too
	Containers int   // filled in by the caller
}

// DiskUsage reports, per image, its total and shared layer sizes.
func (s *Store) DiskUsage(ctx context.Context) ([]DiskUsage, error) {
	recs := s.refs.snapshot()
	users := map[string]int{}
	for _, r := range recs {
		for _, l := range r.Layers {
			users[l]++
		}
	}
	out := make([]DiskUsage, 0, len(recs))
	for _, r := range recs {
		du := DiskUsage{ID: r.ID}
		for _, l := range r.Layers {
			sz := s.layerSize(l)
			du.Size += sz
			if users[l] > 1 {
				du.SharedSize += sz
			}
		}
		out = append(out, du)
	}
	return out, nil
}

// newRecord builds the record of an image whose blobs and layers are in
// place, computing its size from the layers.
func (s *Store) newRecord(manifest, config digest.Digest, layers []string, tags, digests []string) record {
	r := record{
		ID: "sha256:" + config.Encoded(), ManifestDigest: manifest, ConfigDigest: config,
		Layers: layers, RepoTags: tags, RepoDigests: digests,
	}
	for _, l := range layers {
		r.Size += s.layerSize(l)
	}
	if len(tags) > 0 {
		r.LastTagTime = time.Now().UTC()
	}
	return r
}
