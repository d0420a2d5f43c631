package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// v1Layer is the part of an old per-layer image json (<id>/json) we read.
type v1Layer struct {
	ID              string    `json:"id"`
	Parent          string    `json:"parent"`
	Created         time.Time `json:"created"`
	Comment         string    `json:"comment"`
	Author          string    `json:"author"`
	ContainerConfig struct {
		Cmd []string `json:"Cmd"`
	} `json:"container_config"`
}

// loadLegacyArchive reads the pre-1.10 docker save format: "repositories"
// maps name -> tag -> top layer id, each <id>/json is a v1 image config
// with a parent link and <id>/layer.tar its layer.
func (s *Store) loadLegacyArchive(ctx context.Context, sp *spool) ([]loadedImage, error) {
	var repos map[string]map[string]string
	if err := sp.json("repositories", &repos); err != nil {
		return nil, err
	}
	tagsByTop := map[string][]string{}
	for name, tags := range repos {
		for tag, id := range tags {
			tagsByTop[id] = append(tagsByTop[id], name+":"+tag)
		}
	}
	tops := make([]string, 0, len(tagsByTop))
	for id := range tagsByTop {
		tops = append(tops, id)
	}
	sort.Strings(tops)
	var out []loadedImage
	for _, top := range tops {
		cfg, layers, err := s.legacyConfig(ctx, sp, top)
		if err != nil {
			return out, err
		}
		sort.Strings(tagsByTop[top])
		li, err := s.loadImage(ctx, cfg, layers, tagsByTop[top])
		if err != nil {
			return out, err
		}
		out = append(out, li)
	}
	return out, nil
}

// legacyConfig builds an image config (rootfs and history from the layer
// chain, the rest from the top layer's json) and stores it.
func (s *Store) legacyConfig(ctx context.Context, sp *spool, top string) (digest.Digest, []digest.Digest, error) {
	var topRaw map[string]json.RawMessage
	if err := sp.json(top+"/json", &topRaw); err != nil {
		return "", nil, err
	}
	chain, err := legacyChain(sp, top)
	if err != nil {
		return "", nil, err
	}
	var layers, diffIDs []digest.Digest
	var history []map[string]any
	for _, l := range chain {
		d, err := sp.digest(l.ID + "/layer.tar")
		if err != nil {
			return "", nil, err
		}
		diffID, err := s.diffIDOf(ctx, d)
		if err != nil {
			return "", nil, err
		}
		layers, diffIDs = append(layers, d), append(diffIDs, diffID)
		history = append(history, map[string]any{
			"created": l.Created, "created_by": strings.Join(l.ContainerConfig.Cmd, " "),
			"comment": l.Comment, "author": l.Author,
		})
	}
	for _, k := range []string{"id", "parent", "Size", "parent_id", "layer_id", "throwaway"} {
		delete(topRaw, k)
	}
	topRaw["rootfs"], _ = json.Marshal(map[string]any{"type": "layers", "diff_ids": diffIDs})
	topRaw["history"], _ = json.Marshal(history)
	data, err := json.Marshal(topRaw)
	if err != nil {
		return "", nil, fmt.Errorf("encode config: %w", err)
	}
	cfg, err := s.blobs.putBytes(ctx, data)
	return cfg, layers, err
}

// legacyChain returns the layers from the base up to top.
func legacyChain(sp *spool, top string) ([]v1Layer, error) {
	var chain []v1Layer
	for id := top; id != ""; {
		if len(chain) > 256 {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid archive: layer chain of %s too long", top))
		}
		var l v1Layer
		if err := sp.json(id+"/json", &l); err != nil {
			return nil, err
		}
		l.ID = id
		chain = append([]v1Layer{l}, chain...)
		id = l.Parent
	}
	return chain, nil
}
