package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/log"
	"github.com/google/renameio/v2"
)

// loadNetworks brings up the user-defined networks stored under
// <data-root>/networks/<id>.json.
func (d *Daemon) loadNetworks(ctx context.Context) {
	entries, err := os.ReadDir(d.net.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		log.G(ctx).WithError(err).Error("read stored networks")
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		var r netRecord
		b, err := os.ReadFile(filepath.Join(d.net.dir, e.Name()))
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err == nil {
			err = d.bringUp(ctx, &r)
		}
		if err != nil {
			log.G(ctx).WithError(err).WithField("file", e.Name()).Error("network skipped")
		}
	}
}

// saveNetwork writes r atomically.
func (d *Daemon) saveNetwork(r *netRecord) error {
	if err := os.MkdirAll(d.net.dir, 0o700); err != nil {
		return fmt.Errorf("create networks directory: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(filepath.Join(d.net.dir, r.ID+".json"), b, 0o600); err != nil {
		return fmt.Errorf("write network: %w", err)
	}
	return nil
}

// deleteNetworkFile removes r's stored record.
func (d *Daemon) deleteNetworkFile(r *netRecord) error {
	err := os.Remove(filepath.Join(d.net.dir, r.ID+".json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove network: %w", err)
	}
	return nil
}
