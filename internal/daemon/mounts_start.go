package daemon

import (
	"context"
	"strconv"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/opencontainers/runtime-spec/specs-go"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/volume"
)

func secureJoin(root, p string) (string, error) { return securejoin.SecureJoin(root, p) }

// runtimeMounts mounts the container's volumes and returns every mount
// point plus HostConfig.Tmpfs as runtime mounts. Each mounted volume emits
// Docker's "mount" event.
func (d *Daemon) runtimeMounts(ctx context.Context, c *ctr.Container) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, mp := range c.MountPoints {
		m, err := d.runtimeMount(ctx, c, mp)
		if err != nil {
			d.unmountVolumes(ctx, c)
			return nil, err
		}
		out = append(out, m)
	}
	for dst, opts := range c.HostConfig.Tmpfs {
		s, err := volume.ParseTmpfs(dst, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, specs.Mount{Destination: s.Destination, Type: "tmpfs", Source: "tmpfs", Options: s.TmpfsOptions})
	}
	return out, nil
}

func (d *Daemon) runtimeMount(ctx context.Context, c *ctr.Container, mp ctr.MountPoint) (specs.Mount, error) {
	if mp.Type == mount.TypeTmpfs {
		return specs.Mount{Destination: mp.Destination, Type: "tmpfs", Source: "tmpfs", Options: mp.TmpfsOptions}, nil
	}
	src := mp.Source
	if mp.Type == mount.TypeVolume {
		var err error
		if src, err = d.volumes.Mount(ctx, mp.Name, c.ID); err != nil {
			return specs.Mount{}, err
		}
		d.mountEvent(c, mp, "mount")
	}
	opts := []string{"rbind"}
	if mp.NonRecursive {
		opts[0] = "bind"
	}
	prop := string(mp.Propagation)
	if prop == "" {
		prop = string(mount.PropagationRPrivate)
	}
	opts = append(opts, prop)
	if !mp.RW {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: mp.Destination, Type: "bind", Source: src, Options: opts}, nil
}

// unmountVolumes releases the container's volume mounts ("unmount" events
// for the ones it held). Idempotent.
func (d *Daemon) unmountVolumes(ctx context.Context, c *ctr.Container) {
	for _, mp := range c.MountPoints {
		if mp.Type != mount.TypeVolume || !d.volumes.Mounted(mp.Name, c.ID) {
			continue
		}
		logErr(ctx, d.volumes.Unmount(ctx, mp.Name, c.ID), "unmount volume")
		d.mountEvent(c, mp, "unmount")
	}
}

// releaseVolumes drops the container's references; with removeAnonymous
// (docker rm -v, --rm) its anonymous volumes that nothing else uses go too.
func (d *Daemon) releaseVolumes(ctx context.Context, c *ctr.Container, removeAnonymous bool) {
	for _, mp := range c.MountPoints {
		if mp.Type != mount.TypeVolume {
			continue
		}
		d.volumes.Unref(mp.Name, c.ID)
		if !removeAnonymous || !mp.Anonymous {
			continue
		}
		if v, err := d.volumes.Get(mp.Name); err == nil && len(d.volumes.Refs(mp.Name)) == 0 {
			if err := d.volumes.Remove(ctx, mp.Name, false); err != nil {
				logErr(ctx, err, "remove anonymous volume")
				continue
			}
			d.volumeEvent(v, "destroy", nil)
		}
	}
}

// refVolumes records the container's references to its volumes.
func (d *Daemon) refVolumes(ctx context.Context, c *ctr.Container) {
	for _, mp := range c.MountPoints {
		if mp.Type == mount.TypeVolume {
			logErr(ctx, d.volumes.Ref(mp.Name, c.ID), "reference volume")
		}
	}
}

func (d *Daemon) mountEvent(c *ctr.Container, mp ctr.MountPoint, action string) {
	attrs := map[string]string{"container": c.ID}
	if action == "mount" {
		attrs["destination"] = mp.Destination
		attrs["read/write"] = strconv.FormatBool(mp.RW)
		attrs["propagation"] = string(mp.Propagation)
	}
	d.volumeEvent(volume.Volume{Name: mp.Name, Driver: mp.Driver}, action, attrs)
}

// mountPoints renders the container's mounts for inspect and ps.
func mountPoints(c *ctr.Container) []container.MountPoint {
	out := make([]container.MountPoint, 0, len(c.MountPoints))
	for _, mp := range c.MountPoints {
		out = append(out, mp.MountPoint)
	}
	return out
}

// usesVolume is docker ps's volume filter: a volume name, a bind source
// or a mount destination.
func usesVolume(c *ctr.Container, v string) bool {
	for _, mp := range c.MountPoints {
		if mp.Name == v || mp.Source == v || mp.Destination == v {
			return true
		}
	}
	return false
}

// readoptVolumes marks the volumes of a container that survived a daemon
// restart as mounted by it again.
func (d *Daemon) readoptVolumes(ctx context.Context, c *ctr.Container) {
	for _, mp := range c.MountPoints {
		if mp.Type == mount.TypeVolume {
			_, err := d.volumes.Mount(ctx, mp.Name, c.ID)
			logErr(ctx, err, "re-adopt volume mount")
		}
	}
}
