package daemon

import (
	"slices"
	"strings"
	"time"

	"github.com/docker/go-units"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/storage"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// mergeImageConfig fills what the request leaves unset from the image, as
// Docker does: a request Entrypoint drops the image's Cmd; Env merges by
// key with the request winning; labels and exposed ports are unions.
func mergeImageConfig(c container.Config, img dockerspec.DockerOCIImageConfig) container.Config {
	c.Healthcheck = mergeHealthcheck(c.Healthcheck, img.Healthcheck)
	if len(c.Shell) == 0 {
		c.Shell = img.Shell
	}
	if len(c.Entrypoint) == 0 {
		c.Entrypoint = img.Entrypoint
		if len(c.Cmd) == 0 {
			c.Cmd = img.Cmd
		}
	}
	c.Env = mergeEnv(img.Env, c.Env)
	if c.WorkingDir == "" {
		c.WorkingDir = img.WorkingDir
	}
	if c.User == "" {
		c.User = img.User
	}
	if c.StopSignal == "" {
		c.StopSignal = img.StopSignal
	}
	for k, v := range img.Labels {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if _, ok := c.Labels[k]; !ok {
			c.Labels[k] = v
		}
	}
	for p := range img.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			if c.ExposedPorts == nil {
				c.ExposedPorts = network.PortSet{}
			}
			c.ExposedPorts[port] = struct{}{}
		}
	}
	for v := range img.Volumes {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[v] = struct{}{}
	}
	return c
}

// mergeHealthcheck fills what the request's health check leaves unset
// (an empty Test, zero durations and retries) from the image's
// HEALTHCHECK, as Docker does.
func mergeHealthcheck(c, img *container.HealthConfig) *container.HealthConfig {
	if img == nil {
		return c
	}
	if c == nil {
		h := *img
		return &h
	}
	h := *c
	if len(h.Test) == 0 {
		h.Test = img.Test
	}
	for _, d := range []struct{ dst, src *time.Duration }{
		{&h.Interval, &img.Interval}, {&h.Timeout, &img.Timeout},
		{&h.StartPeriod, &img.StartPeriod}, {&h.StartInterval, &img.StartInterval},
	} {
		if *d.dst == 0 {
			*d.dst = *d.src
		}
	}
	if h.Retries == 0 {
		h.Retries = img.Retries
	}
	return &h
}

func mergeEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { e, _, _ = strings.Cut(e, "="); return e == k })
		if i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}

// validateHostConfig rejects what Docker rejects at create, and records
// the log driver (json-file, the only one) as dockerd records its default.
func validateHostConfig(hc *container.HostConfig) error {
	switch hc.RestartPolicy.Name {
	case "", "no", "always", "unless-stopped", "on-failure":
	default:
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid restart policy '%s'", hc.RestartPolicy.Name)
	}
	if hc.RestartPolicy.MaximumRetryCount < 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid restart policy: maximum retry count cannot be negative")
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != "no" {
		return errdefs.Errorf(errdefs.InvalidParameter, "can't create 'AutoRemove' container with restart policy")
	}
	if t := hc.LogConfig.Type; t != "" && t != "json-file" {
		return errdefs.Errorf(errdefs.InvalidParameter, "logging driver %q is not available: dockerd-lite has json-file only", t)
	}
	hc.LogConfig.Type = "json-file"
	return nil
}

// inspect renders the container in GET /containers/{id}/json's shape.
func (d *Daemon) inspect(c *ctr.Container) container.InspectResponse {
	st := c.State
	res := container.InspectResponse{
		ID: c.ID, Created: c.Created.Format(time.RFC3339Nano), Path: c.Path, Args: nonNilSlice(c.Args),
		State: &container.State{
			Status: st.Status, Running: st.Running(), Paused: st.Status == container.StatePaused,
			Restarting: st.Status == container.StateRestarting, OOMKilled: st.OOMKilled, Dead: st.Status == container.StateDead,
			Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: timeOrZero(st.StartedAt), FinishedAt: timeOrZero(st.FinishedAt), Health: st.Health,
		},
		Image: c.ImageID, ResolvConfPath: c.ResolvConfPath, HostnamePath: c.HostnamePath, HostsPath: c.HostsPath,
		LogPath: c.LogPath, Name: "/" + c.Name, RestartCount: c.RestartCount, Driver: d.images.Driver(), Platform: "linux",
		ExecIDs: d.execIDs(c.ID), HostConfig: c.HostConfig, Mounts: mountPoints(c), Config: c.Config,
		GraphDriver:     &storage.DriverData{Name: d.images.Driver(), Data: map[string]string{}},
		NetworkSettings: d.networkSettings(c),
	}
	return res
}

func timeOrZero(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

// summary renders the container in GET /containers/json's shape.
func (d *Daemon) summary(c *ctr.Container) container.Summary {
	s := container.Summary{
		ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, ImageID: c.ImageID,
		Command: strings.Join(append([]string{c.Path}, c.Args...), " "), Created: c.Created.Unix(),
		Ports: portSummaries(c), Labels: nonNilMap(c.Config.Labels), State: c.State.Status,
		Status: statusText(c.State), Mounts: mountPoints(c),
		NetworkSettings: &container.NetworkSettingsSummary{Networks: d.networkSettings(c).Networks},
	}
	s.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	if h := c.State.Health; h != nil {
		s.Health = &container.HealthSummary{Status: h.Status, FailingStreak: h.FailingStreak}
	}
	return s
}

// statusText is docker ps's STATUS column ("Up 3 minutes", "Exited (0) 2
// seconds ago", "Created").
func statusText(s ctr.State) string {
	switch s.Status {
	case container.StateRunning, container.StatePaused:
		t := "Up " + units.HumanDuration(time.Since(s.StartedAt))
		if s.Status == container.StatePaused {
			t += " (Paused)"
		} else if s.Health != nil && s.Health.Status != container.NoHealthcheck {
			t += " (" + string(s.Health.Status) + ")"
		}
		return t
	case container.StateRestarting:
		return "Restarting (" + itoa(int64(s.ExitCode)) + ") " + units.HumanDuration(time.Since(s.FinishedAt)) + " ago"
	case container.StateExited:
		return "Exited (" + itoa(int64(s.ExitCode)) + ") " + units.HumanDuration(time.Since(s.FinishedAt)) + " ago"
	case container.StateDead:
		return "Dead"
	case container.StateRemoving:
		return "Removal In Progress"
	}
	return "Created"
}
