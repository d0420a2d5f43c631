package daemon

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
	vol "github.com/dockerd-lite/dockerd-lite/internal/volume"
)

var _ api.VolumeBackend = (*Daemon)(nil)

// VolumeList implements api.VolumeBackend.
func (d *Daemon) VolumeList(ctx context.Context, f filters.Args) ([]volume.Volume, error) {
	dangling, hasDangling, err := f.Bool("dangling")
	if err != nil {
		return nil, err
	}
	var out []volume.Volume
	for _, v := range d.volumes.List() {
		if hasDangling && dangling != (len(d.volumes.Refs(v.Name)) == 0) {
			continue
		}
		if !anyOrEmpty(f["name"], func(s string) bool { return strings.Contains(v.Name, s) }) ||
			!anyOrEmpty(f["driver"], func(s string) bool { return s == v.Driver }) || !f.MatchLabels("label", v.Labels) {
			continue
		}
		out = append(out, volumeForAPI(v, nil))
	}
	return out, nil
}

// VolumeCreate implements api.VolumeBackend.
func (d *Daemon) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	v, created, err := d.volumes.Create(ctx, vol.CreateOptions{Name: req.Name, Driver: req.Driver, Labels: req.Labels, Options: req.DriverOpts})
	if err != nil {
		return volume.Volume{}, err
	}
	if created {
		d.volumeEvent(v, "create", nil)
	}
	return volumeForAPI(v, nil), nil
}

// VolumeInspect implements api.VolumeBackend.
func (d *Daemon) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	v, err := d.volumes.Get(name)
	if err != nil {
		return volume.Volume{}, err
	}
	return volumeForAPI(v, nil), nil
}

// VolumeRemove implements api.VolumeBackend.
func (d *Daemon) VolumeRemove(ctx context.Context, name string, force bool) error {
	v, err := d.volumes.Get(name)
	if err != nil {
		if force {
			return nil
		}
		return err
	}
	if err := d.volumes.Remove(context.WithoutCancel(ctx), name, force); err != nil {
		return err
	}
	d.volumeEvent(v, "destroy", nil)
	return nil
}

// VolumePrune implements api.VolumeBackend: unused volumes, anonymous ones
// only unless all=true, matching label and label!.
func (d *Daemon) VolumePrune(ctx context.Context, f filters.Args) (volume.PruneReport, error) {
	all, _, err := f.Bool("all")
	if err != nil {
		return volume.PruneReport{}, err
	}
	ctx = context.WithoutCancel(ctx)
	var rep volume.PruneReport
	for _, v := range d.volumes.List() {
		if (!all && !v.Anonymous()) || len(d.volumes.Refs(v.Name)) > 0 || !f.MatchLabels("label", v.Labels) ||
			(len(f["label!"]) > 0 && anyLabel(f["label!"], v.Labels)) {
			continue
		}
		size, _ := d.volumes.Size(v.Name)
		if err := d.volumes.Remove(ctx, v.Name, false); err != nil {
			logErr(ctx, err, "prune volume")
			continue
		}
		d.volumeEvent(v, "destroy", nil)
		rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
		rep.SpaceReclaimed += uint64(size)
	}
	d.events.Publish(events.Event{Type: "volume", Action: "prune", Attributes: map[string]string{"reclaimed": strconv.FormatUint(rep.SpaceReclaimed, 10)}})
	return rep, nil
}

// volumeDiskUsage lists the volumes with their size and reference count
// for GET /system/df.
func (d *Daemon) volumeDiskUsage() []volume.Volume {
	var out []volume.Volume
	for _, v := range d.volumes.List() {
		size, err := d.volumes.Size(v.Name)
		if err != nil {
			size = -1
		}
		out = append(out, volumeForAPI(v, &volume.UsageData{Size: size, RefCount: int64(len(d.volumes.Refs(v.Name)))}))
	}
	return out
}

func volumeForAPI(v vol.Volume, usage *volume.UsageData) volume.Volume {
	return volume.Volume{Name: v.Name, Driver: v.Driver, Labels: v.Labels, Options: v.Options, Mountpoint: v.Mountpoint,
		CreatedAt: v.CreatedAt.Format(time.RFC3339), Scope: "local", UsageData: usage}
}

// volumeEvent publishes a volume event with Docker's attributes.
func (d *Daemon) volumeEvent(v vol.Volume, action string, extra map[string]string) {
	attrs := map[string]string{"driver": v.Driver}
	for k, val := range extra {
		attrs[k] = val
	}
	d.events.Publish(events.Event{Type: "volume", Action: action, ID: v.Name, Attributes: attrs})
}
