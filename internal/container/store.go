package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/google/renameio/v2"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

const recordFile = "container.json"

// Store holds every container record, in memory and on disk. It MUST be
// safe for concurrent use: readers get copies, writers go through Update.
type Store struct {
	root string
	mu   sync.RWMutex
	byID map[string]*entry
	name map[string]string // name -> id
}

type entry struct {
	c       *Container
	changed chan struct{} // closed and replaced on every change
	removed bool
}

// Open loads every record under root (<data-root>/containers). A record
// that cannot be read is skipped with its error returned in skipped, so one
// damaged file never hides the other containers.
func Open(root string) (s *Store, skipped []error, err error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, nil, err
	}
	s = &Store{root: root, byID: map[string]*entry{}, name: map[string]string{}}
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dirs {
		c, err := readRecord(filepath.Join(root, d.Name(), recordFile))
		if err != nil {
			skipped = append(skipped, fmt.Errorf("container %s: %w", d.Name(), err))
			continue
		}
		s.byID[c.ID] = &entry{c: c, changed: make(chan struct{})}
		s.name[c.Name] = c.ID
	}
	return s, skipped, nil
}

func readRecord(path string) (*Container, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Container
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Dir is the container's state directory (logs, hosts files, ...).
func (s *Store) Dir(id string) string { return filepath.Join(s.root, id) }

// Add stores a new container, reserving its name. A taken name is
// errdefs.Conflict with Docker's message.
func (s *Store) Add(c *Container) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.name[c.Name]; ok {
		return errdefs.Errorf(errdefs.Conflict, `Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name.`, c.Name, id)
	}
	if err := os.MkdirAll(s.Dir(c.ID), 0o700); err != nil {
		return err
	}
	if err := s.write(c); err != nil {
		os.RemoveAll(s.Dir(c.ID))
		return err
	}
	s.byID[c.ID] = &entry{c: c.Clone(), changed: make(chan struct{})}
	s.name[c.Name] = c.ID
	return nil
}

func (s *Store) write(c *Container) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(s.Dir(c.ID), recordFile), b, 0o600)
}

// Get finds a container by full ID, name (with or without "/") or unique
// ID prefix. Unknown: errdefs.NotFound "No such container: ref".
func (s *Store) Get(ref string) (*Container, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	return e.c.Clone(), nil
}

func (s *Store) lookup(ref string) (*entry, error) {
	if e, ok := s.byID[ref]; ok {
		return e, nil
	}
	if id, ok := s.name[strings.TrimPrefix(ref, "/")]; ok {
		return s.byID[id], nil
	}
	var found *entry
	if ref != "" {
		for id, e := range s.byID {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return nil, errdefs.Errorf(errdefs.InvalidParameter, "multiple IDs found with provided prefix: %s", ref)
				}
				found = e
			}
		}
	}
	if found == nil {
		return nil, errdefs.Errorf(errdefs.NotFound, "No such container: %s", ref)
	}
	return found, nil
}

// List returns copies of every container, newest first.
func (s *Store) List() []*Container {
	s.mu.RLock()
	out := make([]*Container, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e.c.Clone())
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

// Update applies fn to the container under the store's lock, persists the
// result and wakes waiters. If fn fails nothing changes.
func (s *Store) Update(ref string, fn func(*Container) error) (*Container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	c := e.c.Clone()
	if err := fn(c); err != nil {
		return nil, err
	}
	if c.Name != e.c.Name {
		if id, ok := s.name[c.Name]; ok && id != c.ID {
			return nil, errdefs.Errorf(errdefs.Conflict, `Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name.`, c.Name, id)
		}
	}
	if err := s.write(c); err != nil {
		return nil, fmt.Errorf("save container %s: %w", c.ID, err)
	}
	delete(s.name, e.c.Name)
	s.name[c.Name] = c.ID
	e.c = c
	close(e.changed)
	e.changed = make(chan struct{})
	return c.Clone(), nil
}

// Delete removes the record and its state directory, and wakes waiters.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok {
		return errdefs.Errorf(errdefs.NotFound, "No such container: %s", id)
	}
	if err := os.RemoveAll(s.Dir(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove container state: %w", err)
	}
	delete(s.byID, id)
	delete(s.name, e.c.Name)
	e.removed = true
	close(e.changed)
	return nil
}
