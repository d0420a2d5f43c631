package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// execs are the exec instances of running containers. Like Docker's, they
// live in memory: a daemon restart forgets finished and pending execs.
type execs struct {
	mu   sync.Mutex
	byID map[string]*execState
}

type execState struct {
	id, containerID string
	cfg             container.ExecCreateRequest
	running         bool
	started         bool
	pid             int
	exitCode        *int
}

func (e *execs) get(id string) (*execState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.byID[id]
	if !ok {
		return nil, errdefs.Errorf(errdefs.NotFound, "No such exec instance: %s", id)
	}
	return x, nil
}

// execIDs lists a container's exec IDs (for inspect).
func (d *Daemon) execIDs(containerID string) []string {
	d.execs.mu.Lock()
	defer d.execs.mu.Unlock()
	var ids []string
	for id, x := range d.execs.byID {
		if x.containerID == containerID {
			ids = append(ids, id)
		}
	}
	return ids
}

func (d *Daemon) dropExecs(containerID string) {
	d.execs.mu.Lock()
	defer d.execs.mu.Unlock()
	for id, x := range d.execs.byID {
		if x.containerID == containerID {
			delete(d.execs.byID, id)
		}
	}
}

// ExecCreate implements api.ContainerBackend.
func (d *Daemon) ExecCreate(ctx context.Context, name string, req container.ExecCreateRequest) (string, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return "", err
	}
	if c.State.Status == container.StatePaused {
		return "", errdefs.Errorf(errdefs.Conflict, "Container %s is paused, unpause the container before exec", c.ID)
	}
	if !c.State.Running() {
		return "", errdefs.Errorf(errdefs.Conflict, "container %s is not running", c.ID)
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.Errorf(errdefs.InvalidParameter, "No exec command specified")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	x := &execState{id: hex.EncodeToString(b), containerID: c.ID, cfg: req}
	d.execs.mu.Lock()
	d.execs.byID[x.id] = x
	d.execs.mu.Unlock()
	d.containerEvent(c, "exec_create: "+strings.Join(req.Cmd, " "), map[string]string{"execID": x.id})
	return x.id, nil
}

// ExecStart implements api.ContainerBackend.
func (d *Daemon) ExecStart(ctx context.Context, id string, opt api.ExecStartOptions) error {
	x, err := d.execs.get(id)
	if err != nil {
		return err
	}
	c, err := d.containers.Get(x.containerID)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatePaused {
		return errdefs.Errorf(errdefs.Conflict, "Container %s is paused, unpause the container before exec", c.ID)
	}
	if !c.State.Running() {
		return errdefs.Errorf(errdefs.Conflict, "container %s is not running", c.ID)
	}
	proc, err := d.execProcess(ctx, c, x.cfg)
	if err != nil {
		return err
	}
	d.execs.mu.Lock()
	if x.started {
		d.execs.mu.Unlock()
		return errdefs.Errorf(errdefs.Conflict, "Error: Exec command %s is already running", id)
	}
	x.started, x.running = true, true
	d.execs.mu.Unlock()
	eo := runtime.ExecOpt{Tty: x.cfg.Tty, Started: func(pid int) { d.execs.mu.Lock(); x.pid = pid; d.execs.mu.Unlock() }}
	runCtx := context.WithoutCancel(ctx)
	if !opt.Detach {
		s, err := opt.Open(x.cfg.Tty)
		if err != nil {
			return err
		}
		defer s.CloseWrite()
		runCtx = ctx // the client leaving detaches; the process keeps running
		if x.cfg.AttachStdin {
			eo.Stdin = s.Stdin
		}
		if x.cfg.AttachStdout {
			eo.Stdout = s.Stdout
		}
		if x.cfg.AttachStderr {
			eo.Stderr = s.Stderr
		}
	}
	d.containerEvent(c, "exec_start: "+strings.Join(x.cfg.Cmd, " "), map[string]string{"execID": id})
	run := func() {
		st, err := d.runtime.Exec(runCtx, c.ID, id, proc, eo)
		code := st.ExitCode
		if err != nil && runCtx.Err() == nil {
			code = 126
		}
		d.execs.mu.Lock()
		x.running, x.exitCode = false, &code
		d.execs.mu.Unlock()
		d.containerEvent(c, "exec_die", map[string]string{"execID": id, "exitCode": itoa(int64(code))})
	}
	if opt.Detach {
		go run()
		return nil
	}
	run()
	return nil
}

// execProcess builds the exec's process from the container's config.
func (d *Daemon) execProcess(ctx context.Context, c *ctr.Container, req container.ExecCreateRequest) (*specs.Process, error) {
	rootfs, release, err := d.execUserRoot(ctx, c)
	if err != nil {
		return nil, err
	}
	defer release()
	userSpec := req.User
	if userSpec == "" {
		userSpec = c.Config.User
	}
	u, err := resolveUser(rootfs, userSpec, c.HostConfig.GroupAdd)
	if err != nil {
		return nil, err
	}
	cwd := req.WorkingDir
	if cwd == "" {
		cwd = c.Config.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	hostname := c.Config.Hostname
	if c.HostConfig.UTSMode.IsHost() {
		hostname = ""
	}
	env := runtime.ProcessEnv(mergeEnv(c.Config.Env, req.Env), hostname, req.Tty)
	p := &specs.Process{Args: req.Cmd, Env: env, Cwd: cwd, Terminal: req.Tty,
		User: specs.User{UID: uint32(u.Uid), GID: uint32(u.Gid)}}
	for _, g := range u.Sgids {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if req.ConsoleSize != nil {
		p.ConsoleSize = &specs.Box{Height: req.ConsoleSize[0], Width: req.ConsoleSize[1]}
	}
	return p, nil
}

// execUserRoot returns the root whose /etc/passwd and /etc/group name the
// exec's user: the running container's own root, as its processes see it,
// without a storage round trip. A daemon restarted in a new user namespace
// may not enter that root; then it mounts the layer for the lookup.
func (d *Daemon) execUserRoot(ctx context.Context, c *ctr.Container) (string, func(), error) {
	if c.State.Pid != 0 {
		root := fmt.Sprintf("/proc/%d/root", c.State.Pid)
		if _, err := os.Stat(root); err == nil {
			return root, func() {}, nil
		}
	}
	root, err := d.images.Mount(ctx, c.LayerID)
	if err != nil {
		return "", nil, err
	}
	return root, func() {
		if err := d.images.Unmount(ctx, c.LayerID); err != nil {
			log.G(ctx).WithError(err).WithField("container", c.ID).Debug("unmount after exec user lookup")
		}
	}, nil
}

// ExecInspect implements api.ContainerBackend.
func (d *Daemon) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	x, err := d.execs.get(id)
	if err != nil {
		return container.ExecInspectResponse{}, err
	}
	d.execs.mu.Lock()
	defer d.execs.mu.Unlock()
	res := container.ExecInspectResponse{
		ID: x.id, ContainerID: x.containerID, Running: x.running, OpenStdin: x.cfg.AttachStdin,
		OpenStdout: x.cfg.AttachStdout, OpenStderr: x.cfg.AttachStderr, Pid: x.pid,
		ProcessConfig: &container.ExecProcessConfig{Tty: x.cfg.Tty, Entrypoint: x.cfg.Cmd[0], Arguments: x.cfg.Cmd[1:], Privileged: &x.cfg.Privileged, User: x.cfg.User},
	}
	if x.exitCode != nil {
		res.ExitCode = x.exitCode
	}
	return res, nil
}

// ExecResize implements api.ContainerBackend.
func (d *Daemon) ExecResize(ctx context.Context, id string, height, width uint) error {
	x, err := d.execs.get(id)
	if err != nil {
		return err
	}
	return d.runtime.Resize(ctx, x.containerID, id, height, width)
}
