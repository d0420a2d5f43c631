package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/google/renameio/v2"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// DriverLocal is the only volume driver.
const DriverLocal = "local"

// AnonymousLabel marks volumes created without a name, as Docker does;
// prune (API >= 1.42) removes only these unless all=true.
const AnonymousLabel = "com.docker.volume.anonymous"

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Volume is one volume's record.
type Volume struct {
	Name      string
	Driver    string
	Labels    map[string]string
	Options   map[string]string
	CreatedAt time.Time
	// Mountpoint is the directory containers bind (computed, not stored).
	Mountpoint string `json:"-"`
}

// Anonymous reports whether the volume was created without a name.
func (v Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// CreateOptions are the parameters of Create. An empty Name creates an
// anonymous volume with a random 64-hex name.
type CreateOptions struct {
	Name    string
	Driver  string
	Labels  map[string]string
	Options map[string]string
	// Ref, when set, records a reference (a container id) in the same step,
	// so that a concurrent prune cannot take the volume in between.
	Ref string
}

// Store holds the volumes under one directory. It MUST be (and is) safe for
// concurrent use. References (containers that use a volume) and active
// mounts are kept in memory; the daemon re-adds references at start.
type Store struct {
	root   string
	mu     sync.Mutex
	vols   map[string]*Volume
	refs   map[string]map[string]struct{} // name -> container ids
	active map[string]map[string]struct{} // name -> container ids that mounted it
}

// Open loads the volumes under root, creating it when missing. Unreadable
// records are logged and skipped.
func Open(ctx context.Context, root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, fmt.Errorf("create volume root: %w", err)
	}
	s := &Store{root: root, vols: map[string]*Volume{}, refs: map[string]map[string]struct{}{}, active: map[string]map[string]struct{}{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read volume root: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
			continue
		}
		v, err := s.load(e.Name())
		if err != nil {
			log.G(ctx).WithError(err).WithField("volume", e.Name()).Warn("volume record unreadable; skipped")
			continue
		}
		s.vols[v.Name] = v
	}
	return s, nil
}

func (s *Store) load(name string) (*Volume, error) {
	b, err := os.ReadFile(filepath.Join(s.root, name, "volume.json"))
	if err != nil {
		return nil, err
	}
	var v Volume
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	v.Mountpoint = s.dataPath(v.Name)
	return &v, nil
}

func (s *Store) dataPath(name string) string { return filepath.Join(s.root, name, "_data") }

// Create creates a volume, or returns the existing one of that name
// (Docker's create is idempotent). created is false for an existing volume.
func (s *Store) Create(ctx context.Context, opt CreateOptions) (v Volume, created bool, err error) {
	if opt.Driver == "" {
		opt.Driver = DriverLocal
	}
	if opt.Name == "" {
		opt.Name = randomName()
		opt.Labels = withLabel(opt.Labels, AnonymousLabel)
	}
	if err := validate(opt); err != nil {
		return Volume{}, false, opErr("create", opt.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.vols[opt.Name]; ok {
		if old.Driver != opt.Driver {
			return Volume{}, false, errdefs.Errorf(errdefs.Conflict, "create %s: volume name must be unique", opt.Name)
		}
		if opt.Ref != "" {
			add(s.refs, old.Name, opt.Ref)
		}
		return *old, false, nil
	}
	nv := &Volume{Name: opt.Name, Driver: opt.Driver, Labels: opt.Labels, Options: opt.Options,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Mountpoint: s.dataPath(opt.Name)}
	if err := s.write(nv); err != nil {
		return Volume{}, false, err
	}
	s.vols[nv.Name] = nv
	if opt.Ref != "" {
		add(s.refs, nv.Name, opt.Ref)
	}
	return *nv, true, nil
}

func withLabel(labels map[string]string, key string) map[string]string {
	out := map[string]string{key: ""}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

// write creates the volume's directories and writes its record atomically.
func (s *Store) write(v *Volume) error {
	if err := os.MkdirAll(s.dataPath(v.Name), 0o755); err != nil {
		return fmt.Errorf("create volume %s: %w", v.Name, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(filepath.Join(s.root, v.Name, "volume.json"), b, 0o600); err != nil {
		_ = os.RemoveAll(filepath.Join(s.root, v.Name))
		return fmt.Errorf("write volume %s: %w", v.Name, err)
	}
	return nil
}

func validate(opt CreateOptions) error {
	if opt.Driver != DriverLocal {
		return errdefs.Errorf(errdefs.NotFound, "error looking up volume plugin %s: plugin %q not found", opt.Driver, opt.Driver)
	}
	if len(opt.Name) == 1 {
		return errdefs.Errorf(errdefs.InvalidParameter, "volume name is too short, names should be at least two alphanumeric characters")
	}
	if !nameRE.MatchString(opt.Name) {
		return errdefs.Errorf(errdefs.InvalidParameter, "%q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", opt.Name, "[a-zA-Z0-9][a-zA-Z0-9_.-]")
	}
	return validateOptions(opt.Options)
}

func randomName() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// opErr formats errors as Docker's volume service does: "op name: err",
// keeping err's class.
func opErr(op, name string, err error) error {
	return fmt.Errorf("%s %s: %w", op, name, err)
}

// Get returns the named volume.
func (s *Store) Get(name string) (Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return Volume{}, errNoSuchVolume("get", name)
	}
	return *v, nil
}

func errNoSuchVolume(op, name string) error {
	return errdefs.Errorf(errdefs.NotFound, "%s %s: no such volume", op, name)
}

// List returns every volume, sorted by name.
func (s *Store) List() []Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Volume, 0, len(s.vols))
	for _, v := range s.vols {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Remove deletes a volume and its data. A volume referenced by a container
// is a Conflict with Docker's message, even with force; force makes a
// missing volume succeed.
func (s *Store) Remove(ctx context.Context, name string, force bool) error {
	trash, err := s.detach(name, force)
	if err != nil || trash == "" {
		return err
	}
	// outside the lock: big volumes do not hold up the store
	if err := os.RemoveAll(trash); err != nil {
		log.G(ctx).WithError(err).WithField("volume", name).Warn("remove volume data")
	}
	return nil
}

// detach forgets an unused volume and renames its directory away (a create
// of the same name may follow at once); it returns the new path, "" when
// there was nothing to remove.
func (s *Store) detach(name string, force bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		if force {
			return "", nil
		}
		return "", errNoSuchVolume("get", name)
	}
	refs := s.refList(name)
	for id := range s.active[name] { // a mount in progress (a fill) counts too
		if _, ok := s.refs[name][id]; !ok {
			refs = append(refs, id)
		}
	}
	if len(refs) > 0 {
		return "", errdefs.Errorf(errdefs.Conflict, "remove %s: volume is in use - [%s]", name, strings.Join(refs, ", "))
	}
	trash := filepath.Join(s.root, trashPrefix+randomName()[:16])
	if err := os.Rename(filepath.Join(s.root, name), trash); err != nil {
		return "", fmt.Errorf("remove %s: %w", name, err)
	}
	delete(s.vols, name)
	return trash, nil
}

// trashPrefix marks directories of removed volumes that are being deleted;
// Open deletes leftovers. Volume names cannot start with a dot.
const trashPrefix = ".removing-"
