package oci

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// DeleteItem is one line of an image delete response: either Untagged (a
// familiar reference) or Deleted (an image ID or layer ID).
type DeleteItem struct {
	Untagged string `json:",omitempty"`
	Deleted  string `json:",omitempty"`
}

// Remove untags or deletes an image the way Docker does. By reference: the
// reference is untagged, and the image deleted when nothing else refers to
// it. By ID: all references are removed and the image deleted, which needs
// force when the image is tagged in several repositories (409). Unless
// noprune, untagged parent images are deleted too. The caller checks
// whether a container uses the image before calling.
func (s *Store) Remove(ctx context.Context, nameOrID string, force, noprune bool) ([]DeleteItem, error) {
	var items []DeleteItem
	var deleted *record
	err := s.refs.update(func(m map[string]*record) error {
		r := resolveLocked(m, nameOrID)
		if r == nil {
			return errdefs.NotFound(fmt.Errorf("No such image: %s", nameOrID))
		}
		var err error
		items, err = untagForRemove(r, nameOrID, force)
		if err != nil {
			return err
		}
		if len(r.RepoTags)+len(r.RepoDigests) == 0 && !hasChildImage(m, r.ID) {
			c := r.clone()
			deleted = &c
			delete(m, r.ID)
			items = append(items, DeleteItem{Deleted: r.ID})
		}
		return nil
	})
	if err != nil || deleted == nil {
		return items, err
	}
	items = append(items, s.afterDelete(ctx, *deleted)...)
	if !noprune && deleted.Parent != "" {
		if parent, err := s.resolve(deleted.Parent); err == nil && len(parent.RepoTags) == 0 {
			more, _ := s.Remove(ctx, parent.ID, false, false)
			items = append(items, more...)
		}
	}
	return items, nil
}

// untagForRemove removes the references Remove drops and lists them.
func untagForRemove(r *record, nameOrID string, force bool) ([]DeleteItem, error) {
	if ref, err := ParseRef(nameOrID); err == nil && !isIDInput(r, nameOrID) {
		full := ref.TagRef()
		if ref.Digest != "" {
			full = ref.DigestRef(ref.Digest)
		}
		r.RepoTags = slices.DeleteFunc(r.RepoTags, func(t string) bool { return t == full })
		r.RepoDigests = slices.DeleteFunc(r.RepoDigests, func(t string) bool { return t == full })
		items := []DeleteItem{{Untagged: familiar(full)}}
		// Docker drops a repository's digest references with its last tag.
		if !slices.ContainsFunc(r.RepoTags, sameRepo(ref.Named.Name())) {
			items = append(items, dropDigests(r, ref.Named.Name())...)
		}
		return items, nil
	}
	if !force && !singleReference(r) {
		return nil, errdefs.Conflict(fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(r.ID)))
	}
	var items []DeleteItem
	for _, t := range append(slices.Clone(r.RepoTags), r.RepoDigests...) {
		items = append(items, DeleteItem{Untagged: familiar(t)})
	}
	r.RepoTags, r.RepoDigests = nil, nil
	return items, nil
}

func dropDigests(r *record, repo string) []DeleteItem {
	var items []DeleteItem
	r.RepoDigests = slices.DeleteFunc(r.RepoDigests, func(d string) bool {
		if strings.HasPrefix(d, repo+"@") {
			items = append(items, DeleteItem{Untagged: familiar(d)})
			return true
		}
		return false
	})
	return items
}

func sameRepo(repo string) func(string) bool {
	return func(t string) bool { return strings.HasPrefix(t, repo+":") }
}

// isIDInput reports whether the user named the image by (a prefix of) its
// ID rather than by a reference.
func isIDInput(r *record, s string) bool {
	hex, ok := normaliseID(s)
	return ok && strings.HasPrefix(strings.TrimPrefix(r.ID, "sha256:"), hex) &&
		!slices.Contains(r.RepoTags, mustTagRef(s))
}

func mustTagRef(s string) string {
	ref, err := ParseRef(s)
	if err != nil {
		return ""
	}
	return ref.TagRef()
}

// singleReference: all references in one repository and at most one tag.
func singleReference(r *record) bool {
	if len(r.RepoTags) > 1 {
		return false
	}
	repos := map[string]bool{}
	for _, ref := range append(slices.Clone(r.RepoTags), r.RepoDigests...) {
		if named, err := reference.ParseNormalizedNamed(ref); err == nil {
			repos[named.Name()] = true
		}
	}
	return len(repos) <= 1
}

func hasChildImage(m map[string]*record, id string) bool {
	for _, r := range m {
		if r.Parent == id {
			return true
		}
	}
	return false
}

// afterDelete releases the deleted image's layers and manifest/config
// blobs no other image uses, and lists removed layers as Deleted items.
func (s *Store) afterDelete(ctx context.Context, r record) []DeleteItem {
	var before []string
	for _, l := range r.Layers {
		if _, ok := s.readyLayer(l); ok {
			before = append(before, l)
		}
	}
	s.releaseLayers(ctx, r.Layers)
	var items []DeleteItem
	for i := len(before) - 1; i >= 0; i-- {
		if _, err := s.store.Layer(before[i]); err != nil {
			items = append(items, DeleteItem{Deleted: "sha256:" + before[i]})
		}
	}
	s.releaseBlobs(ctx, r)
	return items
}

// shortID is the 12-hex form of an ID or digest.
func shortID(id string) string {
	hex := strings.TrimPrefix(id, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// Untag removes one reference and never deletes the image, even when it
// was the last one (docker rmi -f of an image a container still uses).
func (s *Store) Untag(ctx context.Context, ref string) ([]DeleteItem, error) {
	var items []DeleteItem
	err := s.refs.update(func(m map[string]*record) error {
		r := resolveLocked(m, ref)
		if r == nil || isIDInput(r, ref) {
			return errdefs.NotFound(fmt.Errorf("No such image: %s", ref))
		}
		var err error
		items, err = untagForRemove(r, ref, true)
		return err
	})
	return items, err
}
