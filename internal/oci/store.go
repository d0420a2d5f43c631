package oci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/containerd/log"
	storage "go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Graph driver names reported by Driver.
const (
	DriverOverlay     = "overlay"
	DriverFuseOverlay = "fuse-overlayfs"
	DriverVFS         = "vfs"
)

// Opt configures a Store.
type Opt struct {
	// Root is the data root; blobs/, storage/ and images.json live there.
	Root string
	// RunRoot holds run state (mounts, locks) of containers/storage.
	RunRoot string
	// Driver forces a graph driver ("overlay", "fuse-overlayfs", "vfs");
	// empty picks the first that works in that order.
	Driver string
	// InsecureRegistries are registries (host[:port] or CIDR) reached over
	// plain HTTP. Loopback registries are always insecure.
	InsecureRegistries []string
	// Mirrors are registry mirrors (URLs or host[:port]) tried for docker.io.
	Mirrors []string
}

// Store is the image store. All methods are safe for concurrent use.
type Store struct {
	opt      Opt
	driver   string
	store    storage.Store
	blobs    *blobStore
	refs     *recordStore
	repos    *blobRepos
	layerMu  keyedMutex
	inflight inflightLayers
	rootless bool
}

// New creates the data root's directories, opens containers/storage with the
// first graph driver that works (or opt.Driver) and loads the image records.
// Layers left behind by an interrupted pull are removed.
func New(ctx context.Context, opt Opt) (*Store, error) {
	if opt.Root == "" || opt.RunRoot == "" {
		return nil, errors.New("new image store: root and run root are required")
	}
	// Partial downloads and archive spools of a previous run are garbage.
	if err := os.RemoveAll(filepath.Join(opt.Root, "tmp")); err != nil {
		return nil, fmt.Errorf("clean temp directory: %w", err)
	}
	for _, d := range []string{opt.Root, opt.RunRoot, filepath.Join(opt.Root, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create directory: %w", err)
		}
	}
	blobs, err := newBlobStore(filepath.Join(opt.Root, "blobs"))
	if err != nil {
		return nil, err
	}
	refs, err := loadRecords(filepath.Join(opt.Root, "images.json"))
	if err != nil {
		return nil, err
	}
	repos, err := loadBlobRepos(filepath.Join(opt.Root, "blobrepos.json"))
	if err != nil {
		return nil, err
	}
	s := &Store{opt: opt, blobs: blobs, refs: refs, repos: repos, rootless: singleIDMapping()}
	if err := s.openStorage(ctx); err != nil {
		return nil, err
	}
	if err := s.collectLayers(ctx); err != nil {
		log.G(ctx).WithError(err).Warn("clean up interrupted layers")
	}
	return s, nil
}

// openStorage tries the graph drivers in order of preference.
func (s *Store) openStorage(ctx context.Context) error {
	candidates := []string{DriverOverlay, DriverFuseOverlay, DriverVFS}
	if s.opt.Driver != "" {
		candidates = []string{s.opt.Driver}
	}
	var errs []error
	for _, name := range candidates {
		st, err := s.tryDriver(name)
		if err == nil {
			s.store, s.driver = st, name
			log.G(ctx).WithField("driver", name).Debug("image store opened")
			return nil
		}
		log.G(ctx).WithError(err).WithField("driver", name).Debug("graph driver unusable")
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return fmt.Errorf("open layer storage: %w", errors.Join(errs...))
}

func (s *Store) tryDriver(name string) (storage.Store, error) {
	// containers/storage would otherwise merge /etc/containers/storage.conf
	// and the user's ~/.config/containers/storage.conf (Podman's settings,
	// unreadable to a root-started daemon's mapped root) into our store.
	conf := filepath.Join(s.opt.Root, "storage.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return nil, fmt.Errorf("write empty storage.conf: %w", err)
	}
	if err := os.Setenv("CONTAINERS_STORAGE_CONF", conf); err != nil {
		return nil, err
	}
	o := types.StoreOptions{
		RunRoot:         filepath.Join(s.opt.RunRoot, "storage"),
		GraphRoot:       filepath.Join(s.opt.Root, "storage"),
		GraphDriverName: name,
	}
	switch name {
	case DriverOverlay:
	case DriverFuseOverlay:
		prog, err := exec.LookPath("fuse-overlayfs")
		if err != nil {
			return nil, fmt.Errorf("fuse-overlayfs not installed (apt-get install fuse-overlayfs): %w", err)
		}
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("fuse-overlayfs cannot open /dev/fuse (make it accessible to this user): %w", err)
		}
		f.Close()
		o.GraphDriverName = DriverOverlay
		o.GraphDriverOptions = []string{"overlay.mount_program=" + prog}
	case DriverVFS:
	default:
		return nil, fmt.Errorf("unknown graph driver %q", name)
	}
	st, err := storage.GetStore(o)
	if err != nil {
		return nil, err
	}
	if _, err := st.GraphDriver(); err != nil {
		_, _ = st.Shutdown(true)
		return nil, err
	}
	return st, nil
}

// Close unmounts what the store mounted and releases containers/storage.
func (s *Store) Close() error {
	if _, err := s.store.Shutdown(true); err != nil {
		return fmt.Errorf("shut down layer storage: %w", err)
	}
	return nil
}

// Driver names the graph driver in use: "overlay", "fuse-overlayfs" or "vfs".
func (s *Store) Driver() string { return s.driver }

// DriverStatus returns the driver's key/value status lines for docker info.
func (s *Store) DriverStatus() [][2]string {
	st, err := s.store.Status()
	if err != nil {
		return [][2]string{{"Error", err.Error()}}
	}
	return append([][2]string{{"Backing Driver", s.driver}}, st...)
}

// singleIDMapping reports whether the current user namespace maps fewer
// than two ids; then chown is impossible and unpacking runs rootless.
func singleIDMapping() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return true
	}
	var total int64
	for _, line := range splitLines(string(data)) {
		var in, out, n int64
		if _, err := fmt.Sscan(line, &in, &out, &n); err == nil {
			total += n
		}
	}
	return total < 2
}

// keyedMutex serialises work per key (e.g. per layer chain ID).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock takes the key's lock and returns its unlock function.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// inflightLayers counts the operations (pulls) that currently rely on a
// layer chain, so a failing pull does not roll back a layer that a
// concurrent pull of another image has just found and is about to record.
type inflightLayers struct {
	mu sync.Mutex
	n  map[string]int
}

// hold registers interest in chains and returns the release function.
func (f *inflightLayers) hold(chains []string) func() {
	f.mu.Lock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	for _, c := range chains {
		f.n[c]++
	}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		for _, c := range chains {
			if f.n[c]--; f.n[c] <= 0 {
				delete(f.n, c)
			}
		}
		f.mu.Unlock()
	}
}

// shared reports whether someone besides the caller holds chain.
func (f *inflightLayers) shared(chain string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[chain] > 1
}

// held reports whether any operation holds chain.
func (f *inflightLayers) held(chain string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[chain] > 0
}
