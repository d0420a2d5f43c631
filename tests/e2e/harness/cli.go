package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one docker CLI invocation.
const cliTimeout = 3 * time.Minute

// Result is the outcome of one docker CLI run.
type Result struct {
	// Args are the CLI arguments (without "docker").
	Args []string
	// Stdout and Stderr are the captured outputs.
	Stdout, Stderr string
	// ExitCode is the CLI's exit status.
	ExitCode int
}

// String renders the result for failure messages.
func (r Result) String() string {
	return "docker " + strings.Join(r.Args, " ") + "\nexit code: " + strconv.Itoa(r.ExitCode) +
		"\nstdout:\n" + r.Stdout + "\nstderr:\n" + r.Stderr
}

// Docker runs the real docker CLI against the daemon, as the daemon's user,
// with DOCKER_HOST set to the daemon's socket and a private DOCKER_CONFIG.
// A non-zero exit is returned, not treated as a failure; t fails only when
// the CLI cannot run or exceeds its time bound.
func (d *Daemon) Docker(t testing.TB, args ...string) Result {
	t.Helper()
	return d.DockerStdin(t, nil, args...)
}

// DockerOK runs the docker CLI like Docker and fails t unless it exits 0;
// it returns stdout.
func (d *Daemon) DockerOK(t testing.TB, args ...string) string {
	t.Helper()
	r := d.Docker(t, args...)
	if r.ExitCode != 0 {
		t.Fatalf("unexpected failure:\n%s", r)
	}
	return r.Stdout
}

// DockerStdin runs the docker CLI with stdin connected to in.
func (d *Daemon) DockerStdin(t testing.TB, in io.Reader, args ...string) Result {
	t.Helper()
	return d.Run(t, in, dockerCLI(t), args...)
}

// Run runs prog as the test user with the CLI's environment (DockerEnv)
// and stdin connected to in; it fails t only when prog cannot run or
// times out. It works in t's cleanups too, where t.Context() has ended.
func (d *Daemon) Run(t testing.TB, in io.Reader, prog string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), cliTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env, cmd.Dir = d.DockerEnv(), d.Home
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, &stderr
	cmd.SysProcAttr = sysProcAttr(run.id)
	err := cmd.Run()
	res := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s timed out after %s:\n%s", prog, cliTimeout, res)
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", prog, err)
	}
	return res
}

// DockerEnv is the environment the CLI runs with: the caller's, minus any
// DOCKER_* variable, plus DOCKER_HOST, DOCKER_CONFIG and the daemon's HOME.
func (d *Daemon) DockerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "DOCKER_HOST="+d.Host(), "DOCKER_CONFIG="+d.dockerConfig, "HOME="+d.Home)
}

// dockerCLI finds the docker client: `docker` in PATH, else
// /usr/local/bin/docker. Without one, t is skipped - or fails when CI=true,
// so that CI never passes by skipping every CLI test.
func dockerCLI(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("docker"); err == nil {
		return p
	}
	const fallback = "/usr/local/bin/docker"
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("docker CLI not found (PATH, /usr/local/bin/docker)")
	}
	t.Skip("docker CLI not found (PATH, /usr/local/bin/docker)")
	return ""
}
