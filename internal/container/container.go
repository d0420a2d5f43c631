package container

import (
	"time"

	"github.com/moby/moby/api/types/container"
)

// Container is one container's record. The Config and HostConfig are the
// Engine API's own types: they are the user's request, stored as given.
type Container struct {
	ID      string
	Name    string // without the leading "/"
	Created time.Time
	Image   string // the reference the user gave
	ImageID string
	Path    string
	Args    []string

	Config     *container.Config
	HostConfig *container.HostConfig

	LayerID        string // the read-write storage layer
	LogPath        string
	HostsPath      string
	HostnamePath   string
	ResolvConfPath string
	RestartCount   int
	// ManualStop is set by docker stop so that restart policies (and
	// unless-stopped at daemon start) respect it.
	ManualStop bool
	// MountPoints are the container's resolved mounts (volumes, binds,
	// --mount tmpfs), fixed at create.
	MountPoints []MountPoint `json:",omitempty"`

	// Network is the container's network state: its endpoints (addresses
	// while it runs) and its published ports. Nil before the first start
	// and for containers without a network of their own.
	Network *container.NetworkSettings `json:",omitempty"`

	State State
}

// MountPoint is one resolved mount: the fields inspect reports, plus what
// start needs to mount it again.
type MountPoint struct {
	container.MountPoint
	// Anonymous is set for volumes the container created without a name;
	// docker rm -v removes them.
	Anonymous bool `json:",omitempty"`
	// NonRecursive binds without MS_REC (--mount bind-recursive=disabled).
	NonRecursive bool `json:",omitempty"`
	// TmpfsOptions are a tmpfs mount's options.
	TmpfsOptions []string `json:",omitempty"`
}

// State is the container's lifecycle state.
type State struct {
	Status     container.ContainerState
	Pid        int
	ExitCode   int
	Error      string
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	// Exits counts exits; Wait("next-exit") waits for it to grow.
	Exits int
	// Health is nil when the container has no health check.
	Health *container.Health
}

// Running reports whether the container's process is alive (running,
// paused or restarting in Docker's terms).
func (s State) Running() bool {
	switch s.Status {
	case container.StateRunning, container.StatePaused:
		return true
	}
	return false
}

// SetRunning records a started process.
func (s *State) SetRunning(pid int, at time.Time) {
	s.Status, s.Pid, s.StartedAt = container.StateRunning, pid, at
	s.ExitCode, s.Error, s.OOMKilled = 0, "", false
}

// SetExited records a process exit.
func (s *State) SetExited(code int, oom bool, at time.Time) {
	s.Status, s.Pid, s.ExitCode, s.OOMKilled, s.FinishedAt = container.StateExited, 0, code, oom, at
	s.Exits++
	if s.Health != nil {
		s.Health.Status = container.Unhealthy
	}
}

// SetFailed records a start that failed before the process ran.
func (s *State) SetFailed(code int, err error, at time.Time) {
	s.SetExited(code, false, at)
	s.Error = err.Error()
}

// Clone returns a deep enough copy for readers outside the store.
func (c *Container) Clone() *Container {
	cp := *c
	cp.Args = append([]string(nil), c.Args...)
	if c.Network != nil {
		n := *c.Network
		cp.Network = &n
	}
	if c.State.Health != nil {
		h := *c.State.Health
		h.Log = append([]*container.HealthcheckResult(nil), h.Log...)
		cp.State.Health = &h
	}
	return &cp
}
