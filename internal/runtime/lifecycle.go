package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/log"
	"github.com/opencontainers/runc/libcontainer/exeseal"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/shimbin"
)

// shimConfig is what Create hands the shim in its state directory.
type shimConfig struct {
	ID   string      `json:"id"`
	Spec *specs.Spec `json:"spec"`
	IO   IOOpt       `json:"io"`
}

// Environment variables that select a hidden mode of the binary.
const (
	envMode     = "_DOCKERD_LITE_MODE"
	envStateDir = "_DOCKERD_LITE_STATE"
	envRunDir   = "_DOCKERD_LITE_RUN"
	modeShim    = "shim"
)

// Create starts the container's shim, which creates the container from spec
// (namespaces, mounts, stdio) and leaves its process waiting for Start. An
// id already in use gives a Conflict error.
func (r *Runtime) Create(ctx context.Context, id string, spec *specs.Spec, io IOOpt) error {
	if err := r.prepare(id, spec, io); err != nil {
		return err
	}
	if err := r.launch(ctx, id); err != nil {
		_ = r.removeDirs(id)
		return fmt.Errorf("create container %s: %w", id, err)
	}
	return nil
}

// prepare checks the request and writes the shim's configuration.
func (r *Runtime) prepare(id string, spec *specs.Spec, io IOOpt) error {
	if err := r.exists(id); err == nil {
		return errdefs.Errorf(errdefs.Conflict, "container %s already exists", id)
	} else if errdefs.IsInvalidParameter(err) {
		return err
	}
	if spec == nil || spec.Process == nil || spec.Root == nil {
		return errdefs.Errorf(errdefs.InvalidParameter, "spec needs a process and a root")
	}
	if len(r.sockPath(id)) > maxSockPath {
		return errdefs.Errorf(errdefs.InvalidParameter, "run root %s is too long for a unix socket path", r.opt.RunRoot)
	}
	if io.LogPath == "" {
		io.LogPath = filepath.Join(r.stateDir(id), defaultLog)
	}
	for _, d := range []string{r.stateDir(id), r.runDir(id)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create container dir: %w", err)
		}
	}
	b, err := json.Marshal(shimConfig{ID: id, Spec: spec, IO: io})
	if err != nil {
		return fmt.Errorf("encode shim config: %w", err)
	}
	return writeFileAtomic(filepath.Join(r.stateDir(id), configFile), b)
}

// startShim runs the shim in its own session and waits until it reports
// the container created (or why it could not).
func (r *Runtime) startShim(ctx context.Context, id string) error {
	cmd, ready, err := r.spawnShim(id, nil)
	if err != nil {
		return err
	}
	defer ready.Close()
	return r.awaitReady(ctx, id, cmd.Process, ready)
}

// spawnShim starts the shim process of id and returns it with the read end
// of its ready pipe. With goAhead (see Prepare) the shim waits for a word
// on that pipe before it reads its configuration.
func (r *Runtime) spawnShim(id string, goAhead *os.File) (*exec.Cmd, *os.File, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	logf, err := os.OpenFile(filepath.Join(r.stateDir(id), shimLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, nil, err
	}
	defer logf.Close()
	cmd := r.shimCommand(id, logf, readyW, goAhead)
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		readyR.Close()
		return nil, nil, fmt.Errorf("start shim: %w", err)
	}
	// The shim outlives us; reap it if it exits while we still run.
	go func() { _ = cmd.Wait() }()
	return cmd, readyR, nil
}

func (r *Runtime) shimCommand(id string, logf, ready, goAhead *os.File) *exec.Cmd {
	exe, extra := r.opt.Executable, []*os.File{ready}
	if sealed := r.sealedExecutable(); sealed != nil {
		// fd 4 in the shim: a sealed copy, so libcontainer need not clone
		// the binary again for every container init and exec.
		exe, extra = "/proc/self/fd/4", append(extra, sealed)
	}
	var env []string
	if goAhead != nil {
		extra = append(extra, goAhead)
		env = append(env, envGoAhead+"="+strconv.Itoa(2+len(extra)))
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{"dockerd-lite-shim", id}
	cmd.Env = append(os.Environ(),
		// One P: the shim only copies output and answers the daemon, and
		// every P keeps its own partly filled spans (about 0.3 MiB here).
		"GOMAXPROCS=1",
		envMode+"="+modeShim,
		envStateDir+"="+r.stateDir(id),
		envRunDir+"="+r.runDir(id),
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = r.stateDir(id)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// awaitReady reads the shim's one-line verdict from the ready pipe.
func (r *Runtime) awaitReady(ctx context.Context, id string, p *os.Process, ready *os.File) error {
	stop := context.AfterFunc(ctx, func() { _ = p.Kill() })
	defer stop()
	b, _ := io.ReadAll(ready)
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("shim died during create: %s", r.shimLogTail(id))
	}
	if resp.Err != "" {
		return createError(resp.Err)
	}
	log.G(ctx).WithField("container", id).Debugf("shim pid %d ready", p.Pid)
	return nil
}

// createError classes libcontainer's failures the way Docker reports them:
// a missing or non-executable command is the user's mistake.
func createError(msg string) error {
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
		return errdefs.InvalidParameter(errors.New(msg))
	}
	if strings.Contains(msg, "permission denied") {
		return errdefs.InvalidParameter(errors.New(msg))
	}
	return errors.New(msg)
}

func (r *Runtime) shimLogTail(id string) string {
	b, _ := os.ReadFile(filepath.Join(r.stateDir(id), shimLogFile))
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return strings.TrimSpace(string(b))
}

// Delete removes a stopped container's files (and its default log). A
// created container's process is killed first; a running one gives a
// Conflict error.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	st, err := r.State(ctx, id)
	if err != nil {
		return err
	}
	switch st.Status {
	case StatusRunning:
		return errdefs.Errorf(errdefs.Conflict, "container %s is running: stop it before removing", id)
	case StatusCreated:
		if err := r.Signal(ctx, id, syscall.SIGKILL); err != nil && !errdefs.IsConflict(err) {
			return err
		}
		if _, err := r.Wait(ctx, id); err != nil {
			return err
		}
	}
	return r.removeDirs(id)
}

func (r *Runtime) removeDirs(id string) error {
	if err := os.RemoveAll(r.runDir(id)); err != nil {
		return fmt.Errorf("remove container run dir: %w", err)
	}
	if err := os.RemoveAll(r.stateDir(id)); err != nil {
		return fmt.Errorf("remove container state dir: %w", err)
	}
	return nil
}

// Restore lists the containers this runtime knows after a daemon restart.
// Running ones are re-adopted simply by talking to their shims again; State
// says which are still running.
func (r *Runtime) Restore(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(r.opt.StateRoot)
	if err != nil {
		return nil, fmt.Errorf("read state root: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if r.exists(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	log.G(ctx).Debugf("runtime: restored %d containers", len(ids))
	return ids, nil
}

// Pids lists the processes in the container's pid namespace, init first.
// It reads /proc rather than cgroups, which may not be delegated.
func (r *Runtime) Pids(ctx context.Context, id string) ([]int, error) {
	st, err := r.State(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.Pid == 0 {
		return nil, errdefs.Errorf(errdefs.Conflict, "container %s is not running", id)
	}
	return pidsInNamespace(st.Pid)
}

func pidsInNamespace(initPid int) ([]int, error) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", initPid))
	if err != nil {
		return nil, fmt.Errorf("read pid namespace: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := []int{initPid}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == initPid {
			continue
		}
		if l, _ := os.Readlink("/proc/" + e.Name() + "/ns/pid"); l == ns {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// writeFileAtomic writes b to path through a synced temporary file.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// sealedExecutable returns a sealed in-memory copy of the shim binary (the
// one embedded by internal/shimbin, else the engine binary itself), made
// once. Shims run from it: libcontainer then sees /proc/self/exe is
// already a sealed clone and skips copying the binary (tens of MB) for every
// container start and exec, which is what protects the binary from a
// container overwriting it (CVE-2019-5736). nil: run from the file.
func (r *Runtime) sealedExecutable() *os.File {
	r.sealOnce.Do(func() {
		if len(shimbin.Binary) > 0 {
			r.sealed, _ = exeseal.CloneBinary(bytes.NewReader(shimbin.Binary), int64(len(shimbin.Binary)), "dockerd-lite-shim", r.opt.StateRoot)
			return
		}
		f, err := os.Open(r.opt.Executable)
		if err != nil {
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return
		}
		r.sealed, _ = exeseal.CloneBinary(f, st.Size(), "dockerd-lite", r.opt.StateRoot)
	})
	return r.sealed
}
