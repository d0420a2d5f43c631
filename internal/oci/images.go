package oci

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/containerd/log"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Image is an image as the API shows it.
type Image struct {
	// ID is "sha256:" + the config digest.
	ID string
	// RepoTags are familiar name:tag references ("busybox:latest").
	RepoTags []string
	// RepoDigests are familiar name@digest references.
	RepoDigests []string
	// Parent is the parent image ID (images made by commit/build), or "".
	Parent string
	// Created is the config's creation time.
	Created time.Time
	// Size is the sum of the uncompressed layer sizes.
	Size int64
	// Config is the image config in Docker's variant: the OCI fields
	// (Config, History, RootFS) plus Docker's own (Healthcheck, OnBuild,
	// Shell), which the OCI type would drop.
	Config dockerspec.DockerOCIImage
	// ManifestDigest is the digest of the stored manifest.
	ManifestDigest digest.Digest
	// LastTagTime is when a tag was last added locally.
	LastTagTime time.Time
	// Layers are the storage layer IDs (chain IDs, hex), bottom first.
	Layers []string
	// TopLayer is the last of Layers ("" for an image without layers).
	TopLayer string
}

// imageOf turns a record into an Image, reading the config blob.
func (s *Store) imageOf(r record) (Image, error) {
	img := Image{
		ID: r.ID, ManifestDigest: r.ManifestDigest, LastTagTime: r.LastTagTime,
		Layers: r.Layers, Size: r.Size, Parent: r.Parent,
		RepoTags: []string{}, RepoDigests: []string{},
	}
	for _, t := range r.RepoTags {
		img.RepoTags = append(img.RepoTags, familiar(t))
	}
	for _, d := range r.RepoDigests {
		img.RepoDigests = append(img.RepoDigests, familiar(d))
	}
	if err := s.blobs.readJSON(r.ConfigDigest, &img.Config); err != nil {
		return Image{}, fmt.Errorf("read image config: %w", err)
	}
	if img.Config.Created != nil {
		img.Created = *img.Config.Created
	}
	if n := len(r.Layers); n > 0 {
		img.TopLayer = r.Layers[n-1]
	}
	return img, nil
}

// List returns all images, newest first.
func (s *Store) List(ctx context.Context) ([]Image, error) {
	var out []Image
	for _, r := range s.refs.snapshot() {
		img, err := s.imageOf(r)
		if err != nil {
			log.G(ctx).WithError(err).WithField("image", r.ID).Warn("skip broken image")
			continue
		}
		out = append(out, img)
	}
	slices.SortStableFunc(out, func(a, b Image) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// Get finds an image by reference (full or short name, name@digest,
// name:tag@digest), full ID, "sha256:<hex>" or a unique ID prefix. It
// returns errdefs.NotFound "No such image: <name>" otherwise.
func (s *Store) Get(ctx context.Context, nameOrID string) (Image, error) {
	r, err := s.resolve(nameOrID)
	if err != nil {
		return Image{}, err
	}
	return s.imageOf(r)
}

// ResolveID returns the image ID nameOrID refers to.
func (s *Store) ResolveID(ctx context.Context, nameOrID string) (string, error) {
	r, err := s.resolve(nameOrID)
	return r.ID, err
}

func (s *Store) resolve(nameOrID string) (record, error) {
	s.refs.mu.Lock()
	defer s.refs.mu.Unlock()
	r := resolveLocked(s.refs.byID, nameOrID)
	if r == nil {
		return record{}, errdefs.NotFound(fmt.Errorf("No such image: %s", nameOrID))
	}
	return r.clone(), nil
}

// resolveLocked implements Get's lookup order: ID forms first when the
// input has the sha256: prefix, then references, then ID prefixes.
func resolveLocked(m map[string]*record, s string) *record {
	hex, idLike := normaliseID(s)
	if strings.HasPrefix(s, "sha256:") {
		if !idLike {
			return nil
		}
		return byIDPrefixLocked(m, hex)
	}
	if ref, err := ParseRef(s); err == nil {
		if r := byParsedRefLocked(m, ref); r != nil {
			return r
		}
	}
	if idLike {
		return byIDPrefixLocked(m, hex)
	}
	return nil
}

func byParsedRefLocked(m map[string]*record, ref Ref) *record {
	if ref.Digest != "" {
		want := ref.DigestRef(ref.Digest)
		if r := byRefLocked(m, want); r != nil {
			return r
		}
		for _, r := range m {
			if r.ManifestDigest == ref.Digest && slices.ContainsFunc(r.RepoTags, func(t string) bool {
				return strings.HasPrefix(t, ref.Named.Name()+":")
			}) {
				return r
			}
		}
		return nil
	}
	return byRefLocked(m, ref.TagRef())
}

// byIDPrefixLocked returns the single image whose ID starts with hex.
func byIDPrefixLocked(m map[string]*record, hex string) *record {
	var found *record
	for id, r := range m {
		if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), hex) {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

// Tag adds newRef (normalised; "latest" implied) to the image nameOrID,
// moving it from any image that had it.
func (s *Store) Tag(ctx context.Context, nameOrID, newRef string) error {
	ref, err := ParseRef(newRef)
	if err != nil {
		return err
	}
	if ref.Digest != "" {
		return errdefs.InvalidParameter(errors.New("refusing to create a tag with a digest reference"))
	}
	return s.refs.update(func(m map[string]*record) error {
		r := resolveLocked(m, nameOrID)
		if r == nil {
			return errdefs.NotFound(fmt.Errorf("No such image: %s", nameOrID))
		}
		tag := ref.TagRef()
		removeRefLocked(m, tag)
		r.RepoTags = append(r.RepoTags, tag)
		r.LastTagTime = time.Now().UTC()
		return nil
	})
}

// addRecord stores a new image record, or merges the references into the
// existing record of the same ID. Tags move from other images.
func (s *Store) addRecord(nr record) error {
	return s.refs.update(func(m map[string]*record) error {
		for _, ref := range append(slices.Clone(nr.RepoTags), nr.RepoDigests...) {
			removeRefLocked(m, ref)
		}
		old := m[nr.ID]
		if old == nil {
			m[nr.ID] = &nr
			return nil
		}
		old.RepoTags = appendNew(old.RepoTags, nr.RepoTags...)
		old.RepoDigests = appendNew(old.RepoDigests, nr.RepoDigests...)
		if len(nr.RepoTags) > 0 {
			old.LastTagTime = nr.LastTagTime
		}
		if old.ManifestDigest == "" {
			old.ManifestDigest = nr.ManifestDigest
		}
		return nil
	})
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// writeIndex records every image manifest in the layout's index.json so the
// blobs/ directory is a valid OCI layout that other tools can read.
func (s *Store) writeIndex() error {
	var descs []ocispec.Descriptor
	for _, r := range s.refs.snapshot() {
		data, err := s.blobs.read(r.ManifestDigest)
		if err != nil {
			continue
		}
		desc := ocispec.Descriptor{MediaType: mediaTypeOf(data), Digest: r.ManifestDigest, Size: int64(len(data))}
		if len(r.RepoTags) > 0 {
			desc.Annotations = map[string]string{ocispec.AnnotationRefName: r.RepoTags[0]}
		}
		descs = append(descs, desc)
	}
	return s.blobs.writeIndex(descs)
}
