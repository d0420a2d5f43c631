package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2"
	"github.com/google/uuid"

	"github.com/dockerd-lite/dockerd-lite/internal/config"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
)

// Opt configures New.
type Opt struct {
	Config   config.Config
	Findings []preflight.Finding // what the parent's preflight found on the host
	Rootless bool                // the daemon's owner is an ordinary user
}

// Daemon is the engine. Its methods are safe for concurrent use.
type Daemon struct {
	mu       sync.RWMutex
	cfg      config.Config
	findings []preflight.Finding
	rootless bool
	id       string
	started  time.Time
	events   *events.Bus
	images   *oci.Store
}

// New prepares the data root and returns a running engine.
func New(ctx context.Context, opt Opt) (*Daemon, error) {
	for _, dir := range []string{opt.Config.DataRoot, opt.Config.ExecRoot} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	id, err := engineID(opt.Config.DataRoot)
	if err != nil {
		return nil, err
	}
	images, err := oci.New(ctx, oci.Opt{
		Root:               opt.Config.DataRoot,
		RunRoot:            opt.Config.ExecRoot,
		Driver:             opt.Config.StorageDriver,
		InsecureRegistries: opt.Config.InsecureRegistries,
		Mirrors:            opt.Config.RegistryMirrors,
	})
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	return &Daemon{
		images:   images,
		cfg:      opt.Config,
		findings: opt.Findings,
		rootless: opt.Rootless,
		id:       id,
		started:  time.Now(),
		events:   events.New(),
	}, nil
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

// Close releases the engine's resources.
func (d *Daemon) Close() error { return d.images.Close() }

func hostname() string {
	h, _ := os.Hostname()
	return h
}
