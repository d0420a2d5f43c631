package api

import (
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client/pkg/versions"
)

// imageSummary is image.Summary with the fields older versions carry.
type imageSummary struct {
	image.Summary
	VirtualSize *int64 `json:"VirtualSize,omitempty"` // API < 1.44
}

// imageSummariesForAPI applies the version quirks of GET /images/json:
// VirtualSize (= Size) before 1.44; "<none>" placeholders for untagged
// images before 1.43.
func imageSummariesForAPI(list []image.Summary, api string) []imageSummary {
	out := make([]imageSummary, len(list))
	for i, s := range list {
		if s.RepoTags == nil {
			s.RepoTags = []string{}
		}
		if s.RepoDigests == nil {
			s.RepoDigests = []string{}
		}
		if versions.LessThan(api, "1.43") {
			if len(s.RepoTags) == 0 {
				s.RepoTags = []string{"<none>:<none>"}
			}
			if len(s.RepoDigests) == 0 {
				s.RepoDigests = []string{"<none>@<none>"}
			}
		}
		out[i] = imageSummary{Summary: s}
		if versions.LessThan(api, "1.44") {
			out[i].VirtualSize = &list[i].Size
		}
	}
	return out
}

// imageInspect is image.InspectResponse with the fields older versions carry.
type imageInspect struct {
	image.InspectResponse
	Parent          string    `json:"Parent"`
	DockerVersion   string    `json:"DockerVersion"`
	VirtualSize     *int64    `json:"VirtualSize,omitempty"`     // API < 1.44
	Container       *string   `json:"Container,omitempty"`       // API < 1.45
	ContainerConfig *struct{} `json:"ContainerConfig,omitempty"` // API < 1.45
}

func imageInspectForAPI(in ImageInspect, api string) imageInspect {
	img := in.InspectResponse
	if img.RepoTags == nil {
		img.RepoTags = []string{}
	}
	if img.RepoDigests == nil {
		img.RepoDigests = []string{}
	}
	out := imageInspect{InspectResponse: img, Parent: in.Parent}
	if versions.LessThan(api, "1.44") {
		size := img.Size
		out.VirtualSize = &size
	}
	if versions.LessThan(api, "1.45") {
		empty := ""
		out.Container, out.ContainerConfig = &empty, &struct{}{}
	}
	return out
}

// imageSummariesForAPIPlain gives untagged images empty lists, not null.
func imageSummariesForAPIPlain(list []image.Summary) []image.Summary {
	if list == nil {
		return []image.Summary{}
	}
	for i := range list {
		if list[i].RepoTags == nil {
			list[i].RepoTags = []string{}
		}
		if list[i].RepoDigests == nil {
			list[i].RepoDigests = []string{}
		}
	}
	return list
}
