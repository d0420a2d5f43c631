package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/builder"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
)

var _ api.BuildBackend = (*Daemon)(nil)

// ImageBuild implements api.BuildBackend with the classic builder. Tags
// are checked before anything runs; the context is unpacked below the
// data root's tmp directory.
func (d *Daemon) ImageBuild(ctx context.Context, opt api.BuildOptions, progress api.ProgressFunc) error {
	for _, t := range opt.Tags {
		if _, err := oci.ParseRef(t); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %s: %w", t, err))
		}
	}
	tmp := filepath.Join(d.Config().DataRoot, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("create build directory: %w", err)
	}
	bo := builder.Options{
		Context: opt.Context, Dockerfile: opt.Dockerfile, Tags: opt.Tags, Quiet: opt.Quiet,
		NoCache: opt.NoCache, Pull: opt.Pull, Remove: opt.Remove, ForceRemove: opt.ForceRemove,
		BuildArgs: opt.BuildArgs, Labels: opt.Labels, Target: opt.Target, Platform: opt.Platform,
		Auths: opt.Auths, TempDir: tmp, Unstored: unstoredFields(),
	}
	network := opt.NetworkMode
	if network == "" {
		network = "default"
	}
	_, err := builder.Build(ctx, &buildBackend{d: d, network: container.NetworkMode(network)}, bo, builder.Output(progress))
	return err
}

// buildImage converts an image for the builder.
func buildImage(img oci.Image) builder.Image {
	return builder.Image{ID: img.ID, Config: containerConfigOf(img.Config.Config)}
}

// imageConfigFields are the image config fields a build carries, in the
// JSON shape the image config has (OCI fields plus Docker's Healthcheck,
// OnBuild and Shell, which the store keeps where its config type has them).
type imageConfigFields struct {
	User         string
	ExposedPorts map[string]struct{}
	Env          []string
	Entrypoint   []string
	Cmd          []string
	Volumes      map[string]struct{}
	WorkingDir   string
	Labels       map[string]string
	StopSignal   string
	Healthcheck  *container.HealthConfig
	OnBuild      []string
	Shell        []string
}

// containerConfigOf is the container config an image config describes.
// It goes through JSON so that it reads whatever the store's config type
// holds.
func containerConfigOf(cfg any) container.Config {
	var c imageConfigFields
	if data, err := json.Marshal(cfg); err == nil {
		_ = json.Unmarshal(data, &c)
	}
	out := container.Config{
		User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
		Labels: c.Labels, StopSignal: c.StopSignal, Volumes: c.Volumes,
		Healthcheck: c.Healthcheck, OnBuild: c.OnBuild, Shell: c.Shell,
	}
	for p := range c.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			if out.ExposedPorts == nil {
				out.ExposedPorts = network.PortSet{}
			}
			out.ExposedPorts[port] = struct{}{}
		}
	}
	return out
}

// unstoredFields lists the Docker-only instructions whose config field
// the image config type of the store drops (found by a JSON round trip,
// so it follows the store's type).
func unstoredFields() []string {
	data, err := json.Marshal(imageConfigOf(&container.Config{
		Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}, Shell: []string{"sh"}, OnBuild: []string{"RUN true"},
	}))
	var kept map[string]json.RawMessage
	if err != nil || json.Unmarshal(data, &kept) != nil {
		return []string{"healthcheck", "shell", "onbuild"}
	}
	var out []string
	for field, cmd := range map[string]string{"Healthcheck": "healthcheck", "Shell": "shell", "OnBuild": "onbuild"} {
		if _, ok := kept[field]; !ok {
			out = append(out, cmd)
		}
	}
	return out
}

// authFor picks the credentials of the registry that serves name.
func authFor(name string, auths map[string]registry.AuthConfig) registry.AuthConfig {
	ref, err := oci.ParseRef(name)
	if err != nil {
		return registry.AuthConfig{}
	}
	domain := ref.Domain()
	for key, a := range auths {
		host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://"), "/")
		host, _, _ = strings.Cut(host, "/")
		if host == domain || (domain == "docker.io" && (host == "index.docker.io" || host == "registry-1.docker.io")) {
			return a
		}
	}
	return registry.AuthConfig{}
}

// BuildPrune implements api.BuildBackend. The classic builder's cache is
// the images its steps committed, so pruning it removes the untagged
// images that have a parent image (made by builds and commits) or are the
// FROM scratch base, that no container uses and that no other image
// builds on; their untagged parents go with them, as in image prune.
func (d *Daemon) BuildPrune(ctx context.Context, f filters.Args) (build.CachePruneReport, error) {
	var until time.Time
	if v := f["until"]; len(v) > 0 {
		var err error
		if until, err = filters.ParseTimestamp(v[0]); err != nil {
			return build.CachePruneReport{}, err
		}
	}
	imgs, err := d.images.List(ctx)
	if err != nil {
		return build.CachePruneReport{}, err
	}
	cache := map[string]bool{}
	for _, img := range imgs {
		h := img.Config.History
		scratch := len(h) == 1 && h[0].Comment == scratchComment
		cache[img.ID] = (img.Parent != "" || scratch) && (until.IsZero() || img.Created.Before(until))
	}
	keep := func(id string) bool { return !cache[id] || d.imageInUse(id) }
	items, reclaimed, err := d.images.Prune(ctx, true, keep)
	rep := build.CachePruneReport{CachesDeleted: []string{}, SpaceReclaimed: uint64(reclaimed)}
	for _, it := range items {
		if it.Deleted != "" {
			rep.CachesDeleted = append(rep.CachesDeleted, it.Deleted)
		}
	}
	return rep, err
}
