package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/google/renameio/v2"
	"github.com/google/uuid"

	"github.com/dockerd-lite/dockerd-lite/internal/config"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
	"github.com/dockerd-lite/dockerd-lite/internal/volume"
)

// Opt configures New.
type Opt struct {
	Config   config.Config
	Findings []preflight.Finding // what the parent's preflight found on the host
	Rootless bool                // the daemon's owner is an ordinary user
}

// Daemon is the engine. Its methods are safe for concurrent use.
type Daemon struct {
	rootCtx  context.Context // processes and monitors run under it
	mu       sync.RWMutex
	cfg      config.Config
	findings []preflight.Finding
	cgroups  preflight.CgroupSetup // what the containers' cgroups can do
	rootless bool
	id       string
	events   *events.Bus

	images     *oci.Store
	containers *ctr.Store
	volumes    *volume.Store
	runtime    *runtime.Runtime
	execs      execs
	initPath   string
	locks      sync.Map // container id -> *sync.Mutex
	gates      sync.Map // container id -> *attachGate, while a start is pending
	restarts   sync.Map // container id -> time.Duration, the last restart delay
	net        *networks
}

// New opens the stores under the data root, re-adopts the containers that
// survived a daemon restart, and returns a running engine. ctx is the
// daemon's root context: monitors stop when it ends.
func New(ctx context.Context, opt Opt) (*Daemon, error) {
	cfg := opt.Config
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	id, err := engineID(cfg.DataRoot)
	if err != nil {
		return nil, err
	}
	d := &Daemon{rootCtx: ctx, cfg: cfg, findings: opt.Findings, rootless: opt.Rootless, id: id,
		events: events.New(), execs: execs{byID: map[string]*execState{}}}
	d.detectCgroups()
	if err := d.openStores(ctx); err != nil {
		d.Close()
		return nil, err
	}
	d.openNetworks(ctx)
	d.restore(ctx)
	return d, nil
}

func (d *Daemon) openStores(ctx context.Context) error {
	cfg := d.cfg
	var err error
	d.images, err = oci.New(ctx, oci.Opt{Root: cfg.DataRoot, RunRoot: cfg.ExecRoot, Driver: cfg.StorageDriver,
		InsecureRegistries: cfg.InsecureRegistries, Mirrors: cfg.RegistryMirrors})
	if err != nil {
		return fmt.Errorf("open image store: %w", err)
	}
	var skipped []error
	if d.containers, skipped, err = ctr.Open(filepath.Join(cfg.DataRoot, "containers")); err != nil {
		return fmt.Errorf("open container store: %w", err)
	}
	for _, e := range skipped {
		log.G(ctx).WithError(e).Error("container record unreadable; skipped")
	}
	if d.volumes, err = volume.Open(ctx, filepath.Join(cfg.DataRoot, "volumes")); err != nil {
		return fmt.Errorf("open volume store: %w", err)
	}
	for _, c := range d.containers.List() {
		d.refVolumes(ctx, c)
	}
	d.runtime, err = runtime.New(runtime.Opt{RunRoot: runtime.RunRootIn(cfg.ExecRoot), StateRoot: filepath.Join(cfg.DataRoot, "runtime")})
	if err != nil {
		return err
	}
	d.initPath, err = os.Executable()
	return err
}

// engineID returns the daemon's persistent identity, creating it once.
func engineID(root string) (string, error) {
	path := filepath.Join(root, "engine-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	id := uuid.NewString()
	if err := renameio.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write engine id: %w", err)
	}
	return id, nil
}

// lockContainer serialises lifecycle changes of one container.
func (d *Daemon) lockContainer(id string) func() {
	m, _ := d.locks.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// lockedContainer resolves name, takes the container's lock and returns
// the record as it is under the lock.
func (d *Daemon) lockedContainer(name string) (*ctr.Container, func(), error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, nil, err
	}
	unlock := d.lockContainer(c.ID)
	if c, err = d.containers.Get(c.ID); err != nil {
		unlock()
		return nil, nil, err
	}
	return c, unlock, nil
}

// Config returns the current configuration.
func (d *Daemon) Config() config.Config {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.cfg
}

// Reload applies a reloaded configuration and publishes a daemon reload event.
func (d *Daemon) Reload(cfg config.Config) {
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.events.Publish(events.Event{Type: "daemon", Action: "reload", ID: d.id, Attributes: map[string]string{
		"name":                hostname(),
		"log-level":           cfg.LogLevel,
		"insecure-registries": fmt.Sprint(cfg.InsecureRegistries),
		"registry-mirrors":    fmt.Sprint(cfg.RegistryMirrors),
	}})
}

// Events is the daemon's event bus.
func (d *Daemon) Events() *events.Bus { return d.events }

// SubscribeEvents implements api.SystemBackend.
func (d *Daemon) SubscribeEvents(ctx context.Context, since time.Time, f events.Filter) ([]events.Event, <-chan events.Event) {
	return d.events.Subscribe(ctx, since, f)
}

// Close releases the engine's resources. Running containers keep running
// under their shims and are re-adopted by the next daemon.
func (d *Daemon) Close() error {
	d.closeNetworks()
	if d.images != nil {
		return d.images.Close()
	}
	return nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
