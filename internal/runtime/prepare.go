package runtime

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/containerd/log"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// envGoAhead names the fd on which a prepared shim waits for Create.
const envGoAhead = "_DOCKERD_LITE_GO"

// goAheadWord is what Create writes to a prepared shim; anything else (the
// pipe closed) tells it to exit.
const goAheadWord = "go\n"

// goAheadTimeout bounds how long a prepared shim waits for Create.
const goAheadTimeout = 2 * time.Minute

// preparedShim is a shim process started by Prepare, waiting for Create.
type preparedShim struct {
	cmd     *exec.Cmd
	ready   *os.File // read end of its ready pipe
	goAhead *os.File // write end of its go-ahead pipe
}

// Prepare starts the shim of container id ahead of Create, so that the
// start of the shim process (a start of this binary) overlaps whatever the
// caller still does before Create, such as setting up the network. Create
// then hands the prepared shim its configuration; Release ends a prepared
// shim that Create will not use. Prepare is optional and does nothing for
// an id that already has a container.
func (r *Runtime) Prepare(ctx context.Context, id string) {
	if err := r.exists(id); !errdefs.IsNotFound(err) || len(r.sockPath(id)) > maxSockPath {
		return
	}
	for _, d := range []string{r.stateDir(id), r.runDir(id)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return
		}
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		return
	}
	cmd, ready, err := r.spawnShim(id, goR)
	goR.Close()
	if err != nil {
		goW.Close()
		log.G(ctx).WithError(err).WithField("container", id).Debug("runtime: prepare shim")
		return
	}
	p := &preparedShim{cmd: cmd, ready: ready, goAhead: goW}
	if _, taken := r.prepared.LoadOrStore(id, p); taken {
		p.abort()
	}
}

// Release ends the shim Prepare started for id unless Create used it, and
// removes the directories Prepare made for it.
func (r *Runtime) Release(id string) {
	v, ok := r.prepared.LoadAndDelete(id)
	if !ok {
		return
	}
	v.(*preparedShim).abort()
	if errdefs.IsNotFound(r.exists(id)) {
		_ = r.removeDirs(id)
	}
}

func (p *preparedShim) abort() {
	p.goAhead.Close()
	p.ready.Close()
}

// launch starts the container's shim: the prepared one if there is one
// (falling back to a new one if it died), else a new one.
func (r *Runtime) launch(ctx context.Context, id string) error {
	v, ok := r.prepared.LoadAndDelete(id)
	if !ok {
		return r.startShim(ctx, id)
	}
	p := v.(*preparedShim)
	_, err := io.WriteString(p.goAhead, goAheadWord)
	p.goAhead.Close()
	if err != nil {
		p.ready.Close()
		return r.startShim(ctx, id)
	}
	defer p.ready.Close()
	return r.awaitReady(ctx, id, p.cmd.Process, p.ready)
}

// awaitGoAhead runs first in a prepared shim: it reports whether Create
// came (the daemon closing the pipe, or going away, means no).
func awaitGoAhead() bool {
	fd, err := strconv.Atoi(os.Getenv(envGoAhead))
	if err != nil {
		return true // not prepared
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "go-ahead")
	defer f.Close()
	_ = f.SetReadDeadline(time.Now().Add(goAheadTimeout))
	b := make([]byte, len(goAheadWord))
	_, err = io.ReadFull(f, b)
	return err == nil && string(b) == goAheadWord
}
