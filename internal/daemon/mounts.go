package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/volume"
)

// mountSpecs parses and validates every mount a container asks for, in
// Docker's order of precedence: VolumesFrom, then Binds and Mounts (which
// may not share a destination), then Tmpfs, then the VOLUME entries of the
// image and the config for destinations nothing else covers.
func (d *Daemon) mountSpecs(cfg *container.Config, hc *container.HostConfig) ([]volume.Spec, error) {
	byDst := map[string]volume.Spec{}
	var order []string
	put := func(s volume.Spec) {
		dst := path.Clean(s.Destination)
		if _, ok := byDst[dst]; !ok {
			order = append(order, dst)
		}
		byDst[dst] = s
	}
	from, err := d.volumesFrom(hc.VolumesFrom)
	if err != nil {
		return nil, err
	}
	for _, s := range from {
		put(s)
	}
	user, err := userSpecs(hc)
	if err != nil {
		return nil, err
	}
	for _, s := range user {
		put(s)
	}
	for _, dst := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		if _, ok := byDst[path.Clean(dst)]; !ok {
			put(volume.Spec{Type: mount.TypeVolume, Destination: dst, RW: true, CopyData: true})
		}
	}
	out := make([]volume.Spec, 0, len(order))
	for _, dst := range order {
		out = append(out, byDst[dst])
	}
	return out, nil
}

// userSpecs parses Binds, Mounts and Tmpfs; a destination used twice is
// Docker's "Duplicate mount point". HostConfig.Tmpfs is mounted at start
// and not returned.
func userSpecs(hc *container.HostConfig) ([]volume.Spec, error) {
	var out []volume.Spec
	for _, b := range hc.Binds {
		s, err := volume.ParseBind(b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, m := range hc.Mounts {
		s, err := volume.ParseMount(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	dsts := make([]string, 0, len(out)+len(hc.Tmpfs))
	for _, s := range out {
		dsts = append(dsts, s.Destination)
	}
	for dst, opts := range hc.Tmpfs {
		if _, err := volume.ParseTmpfs(dst, opts); err != nil {
			return nil, err
		}
		dsts = append(dsts, dst)
	}
	return out, noDuplicates(dsts)
}

func noDuplicates(dsts []string) error {
	seen := map[string]bool{}
	for _, d := range dsts {
		d = path.Clean(d)
		if seen[d] {
			return errdefs.Errorf(errdefs.InvalidParameter, "Duplicate mount point: %s", d)
		}
		seen[d] = true
	}
	return nil
}

// volumesFrom copies the mount points of other containers
// ("name[:ro|:rw]"); the mode overrides each mount's read-write flag.
func (d *Daemon) volumesFrom(refs []string) ([]volume.Spec, error) {
	var out []volume.Spec
	for _, ref := range refs {
		name, mode, _ := strings.Cut(ref, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid mode for volumes-from: %s", mode)
		}
		other, err := d.containers.Get(name)
		if err != nil {
			return nil, err
		}
		for _, mp := range other.MountPoints {
			s := volume.Spec{Type: mp.Type, Destination: mp.Destination, RW: mp.RW, Mode: mp.Mode,
				Propagation: mp.Propagation, NonRecursive: mp.NonRecursive, TmpfsOptions: mp.TmpfsOptions}
			s.Source = mp.Source
			if mp.Type == mount.TypeVolume {
				s.Source = mp.Name
			}
			if mode != "" {
				s.RW = mode == "rw"
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// resolveMounts creates the volumes and bind sources the specs need and
// returns the container's mount points. created lists the volumes made
// here, for rollback. A named volume is created on first use.
func (d *Daemon) resolveMounts(ctx context.Context, id string, specs []volume.Spec) (mps []ctr.MountPoint, created []string, err error) {
	for _, s := range specs {
		mp := ctr.MountPoint{MountPoint: container.MountPoint{Type: s.Type, Destination: s.Destination, RW: s.RW,
			Mode: s.Mode, Propagation: s.Propagation}, NonRecursive: s.NonRecursive, TmpfsOptions: s.TmpfsOptions}
		switch s.Type {
		case mount.TypeBind:
			mp.Source = s.Source
			err = bindSource(s)
		case mount.TypeVolume:
			var v volume.Volume
			var isNew bool
			v, isNew, err = d.volumes.Create(ctx, volume.CreateOptions{Name: s.Source, Driver: s.Driver, Labels: s.Labels, Options: s.DriverOpts, Ref: id})
			if err == nil && isNew {
				created = append(created, v.Name)
				d.volumeEvent(v, "create", nil)
			}
			mp.Name, mp.Source, mp.Driver, mp.Anonymous = v.Name, v.Mountpoint, v.Driver, s.Source == ""
		}
		if err != nil {
			return mps, created, err // mps: what holds references so far
		}
		mps = append(mps, mp)
	}
	return mps, created, nil
}

// bindSource checks a bind's host path; Binds create a missing directory
// as Docker does, --mount refuses it.
func bindSource(s volume.Spec) error {
	if _, err := os.Stat(s.Source); err == nil {
		return nil
	}
	if !s.CreateSource {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid mount config for type \"bind\": bind source path does not exist: %s", s.Source)
	}
	if err := os.MkdirAll(s.Source, 0o755); err != nil {
		return errdefs.Errorf(errdefs.InvalidParameter, "error while creating mount source path '%s': %v", s.Source, err)
	}
	return nil
}

// populateVolumes fills the container's empty volumes from the image
// content at their destination (unless nocopy), from the mounted rootfs.
func (d *Daemon) populateVolumes(ctx context.Context, c *ctr.Container, specs []volume.Spec) error {
	var todo []ctr.MountPoint
	for i, mp := range c.MountPoints {
		if mp.Type == mount.TypeVolume && specs[i].CopyData {
			todo = append(todo, mp)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	rootfs, err := d.images.Mount(ctx, c.LayerID)
	if err != nil {
		return fmt.Errorf("mount container filesystem: %w", err)
	}
	defer d.unmountRootfs(ctx, c)
	for _, mp := range todo {
		if err := d.populate(ctx, c, rootfs, mp); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) populate(ctx context.Context, c *ctr.Container, rootfs string, mp ctr.MountPoint) error {
	src, err := secureJoin(rootfs, mp.Destination)
	if err != nil {
		return err
	}
	ref := "populate-" + c.ID
	dir, err := d.volumes.Mount(ctx, mp.Name, ref)
	if err != nil {
		return err
	}
	defer func() { logErr(ctx, d.volumes.Unmount(ctx, mp.Name, ref), "unmount volume") }()
	return volume.Populate(ctx, src, dir)
}

// createMounts resolves the container's mount points, references its
// volumes and fills empty ones from the image. On failure the volumes it
// created are removed again.
func (d *Daemon) createMounts(ctx context.Context, c *ctr.Container, specs []volume.Spec) error {
	mps, created, err := d.resolveMounts(ctx, c.ID, specs)
	c.MountPoints = mps
	if err == nil {
		err = d.populateVolumes(ctx, c, specs)
	}
	if err != nil {
		ctx = context.WithoutCancel(ctx)
		d.releaseVolumes(ctx, c, false)
		for _, name := range created {
			if v, gerr := d.volumes.Get(name); gerr == nil && d.volumes.Remove(ctx, name, false) == nil {
				d.volumeEvent(v, "destroy", nil)
			}
		}
	}
	return err
}
