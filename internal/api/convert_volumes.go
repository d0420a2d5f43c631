package api

import (
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// volumePruneFiltersForAPI applies the API 1.42 change: from 1.42 prune
// removes only anonymous volumes unless all=true; before, every unused one.
func volumePruneFiltersForAPI(f filters.Args, version string) filters.Args {
	if versions.GreaterThanOrEqualTo(version, "1.42") {
		return f
	}
	out := filters.Args{"all": {"true"}}
	for k, v := range f {
		if k != "all" {
			out[k] = v
		}
	}
	return out
}

func nonNilVolumes(vs []volume.Volume) []volume.Volume {
	if vs == nil {
		return []volume.Volume{}
	}
	return vs
}
