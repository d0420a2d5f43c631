package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// record is what images.json keeps for an image; the config itself stays in
// the blob store.
type record struct {
	ID             string        `json:"id"`
	RepoTags       []string      `json:"repoTags,omitempty"`    // full name:tag
	RepoDigests    []string      `json:"repoDigests,omitempty"` // full name@digest
	ManifestDigest digest.Digest `json:"manifest"`
	ConfigDigest   digest.Digest `json:"config"`
	Layers         []string      `json:"layers,omitempty"` // chain IDs (hex)
	Size           int64         `json:"size"`
	LastTagTime    time.Time     `json:"lastTagTime,omitzero"`
	Parent         string        `json:"parent,omitempty"`
}

type recordsFile struct {
	Images []*record `json:"images"`
}

// recordStore is the in-memory copy of images.json; every change is
// written through atomically.
type recordStore struct {
	mu   sync.Mutex
	path string
	byID map[string]*record
}

func loadRecords(path string) (*recordStore, error) {
	rs := &recordStore{path: path, byID: map[string]*record{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return rs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image records: %w", err)
	}
	var f recordsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse image records %s: %w", path, err)
	}
	for _, r := range f.Images {
		rs.byID[r.ID] = r
	}
	return rs, nil
}

// saveLocked writes images.json atomically; rs.mu must be held.
func (rs *recordStore) saveLocked() error {
	f := recordsFile{Images: rs.sortedLocked()}
	data, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("encode image records: %w", err)
	}
	return writeFileAtomic(rs.path, data)
}

func (rs *recordStore) sortedLocked() []*record {
	out := make([]*record, 0, len(rs.byID))
	for _, r := range rs.byID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// snapshot returns copies of all records.
func (rs *recordStore) snapshot() []record {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]record, 0, len(rs.byID))
	for _, r := range rs.sortedLocked() {
		out = append(out, r.clone())
	}
	return out
}

func (r *record) clone() record {
	c := *r
	c.RepoTags = slices.Clone(r.RepoTags)
	c.RepoDigests = slices.Clone(r.RepoDigests)
	c.Layers = slices.Clone(r.Layers)
	return c
}

// update runs fn on the records under the lock and saves if fn succeeds.
// On a failed save the in-memory state is restored.
func (rs *recordStore) update(fn func(map[string]*record) error) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	backup := make(map[string]*record, len(rs.byID))
	for id, r := range rs.byID {
		c := r.clone()
		backup[id] = &c
	}
	if err := fn(rs.byID); err != nil {
		rs.byID = backup
		return err
	}
	if err := rs.saveLocked(); err != nil {
		rs.byID = backup
		return err
	}
	return nil
}

// byRefLocked finds the image that holds ref as a tag or digest reference.
func byRefLocked(m map[string]*record, ref string) *record {
	for _, r := range m {
		if slices.Contains(r.RepoTags, ref) || slices.Contains(r.RepoDigests, ref) {
			return r
		}
	}
	return nil
}

// removeRefLocked drops ref (tag or digest form) from whichever image has it.
func removeRefLocked(m map[string]*record, ref string) {
	for _, r := range m {
		r.RepoTags = slices.DeleteFunc(r.RepoTags, func(s string) bool { return s == ref })
		r.RepoDigests = slices.DeleteFunc(r.RepoDigests, func(s string) bool { return s == ref })
	}
}

// writeFileAtomic writes data to a temp file, fsyncs it and renames it over
// path, so readers see either the old or the new content.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !strings.Contains(err.Error(), "invalid argument") {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
