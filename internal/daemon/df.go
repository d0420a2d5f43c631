package daemon

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// SystemDiskUsage implements api.SystemBackend.
func (d *Daemon) SystemDiskUsage(ctx context.Context) (api.DiskUsage, error) {
	imgs, err := d.images.List(ctx)
	if err != nil {
		return api.DiskUsage{}, err
	}
	usage, err := d.images.DiskUsage(ctx)
	if err != nil {
		return api.DiskUsage{}, err
	}
	shared := map[string]int64{}
	for _, u := range usage {
		shared[u.ID] = u.SharedSize
	}
	containers := d.containers.List()
	var du api.DiskUsage
	for _, img := range imgs {
		s := imageSummary(img)
		s.SharedSize = shared[img.ID]
		s.Containers = 0
		for _, c := range containers {
			if c.ImageID == img.ID {
				s.Containers++
			}
		}
		du.LayersSize += img.Size - s.SharedSize
		du.Images = append(du.Images, s)
	}
	for _, c := range containers {
		du.Containers = append(du.Containers, d.summary(c))
	}
	du.Volumes = d.volumeDiskUsage()
	return du, nil
}

// ContainerPrune implements api.ContainerBackend: it removes stopped
// containers matching the until and label filters.
func (d *Daemon) ContainerPrune(ctx context.Context, f filters.Args) (container.PruneReport, error) {
	var until time.Time
	if v := f["until"]; len(v) > 0 {
		var err error
		if until, err = filters.ParseTimestamp(v[0]); err != nil {
			return container.PruneReport{}, err
		}
	}
	var rep container.PruneReport
	for _, c := range d.containers.List() {
		if c.State.Running() || (!until.IsZero() && !c.Created.Before(until)) ||
			!f.MatchLabels("label", c.Config.Labels) || (len(f["label!"]) > 0 && anyLabel(f["label!"], c.Config.Labels)) {
			continue
		}
		if err := d.remove(context.WithoutCancel(ctx), c); err != nil {
			logErr(ctx, err, "prune container")
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
	}
	d.events.Publish(events.Event{Type: "container", Action: "prune", Attributes: map[string]string{"reclaimed": "0"}})
	return rep, nil
}

func anyLabel(vals []string, labels map[string]string) bool {
	for _, v := range vals {
		if (filters.Args{"l": {v}}).MatchLabels("l", labels) {
			return true
		}
	}
	return false
}
