package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// CLI runs the real docker client against one daemon as the daemon's user,
// the way tests/e2e/harness does: DOCKER_HOST on the daemon socket, a
// private DOCKER_CONFIG, the daemon's HOME.
type CLI struct {
	bin string
	d   *daemon.Daemon
	env []string
}

// NewCLI finds the docker client (PATH, then /usr/local/bin/docker) and
// prepares its config directory under the daemon's BaseDir.
func NewCLI(d *daemon.Daemon) (*CLI, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		bin = "/usr/local/bin/docker"
		if _, serr := os.Stat(bin); serr != nil {
			return nil, fmt.Errorf("find docker CLI: %w", err)
		}
	}
	cfg := filepath.Join(d.BaseDir, "docker-config")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		return nil, fmt.Errorf("create docker config dir: %w", err)
	}
	if err := d.Identity().Chown(cfg); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DOCKER_HOST="+d.Host(), "DOCKER_CONFIG="+cfg, "HOME="+d.Home)
	return &CLI{bin: bin, d: d, env: env}, nil
}

// Run executes `docker args...` and returns its stdout and wall time, from
// just before exec to its exit. A non-zero exit is an error carrying stderr.
func (c *CLI) Run(ctx context.Context, args ...string) (string, time.Duration, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = c.env, c.d.Home, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.d.Identity().Credential()}
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return stdout.String(), took, fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), took, nil
}
