// Command containers measures dockerd-lite's container operations through
// the real docker CLI (its own start-up included), and the memory of the
// per-container shim:
//
//	go run ./hack/bench/containers [-n 10] [-d 20] [-bin path]
//
// It starts one daemon the way tests/e2e/harness does (fresh directories,
// as the current user or as dltest-e2e when run as root), loads the busybox
// test image (tests/testimage) and, after one untimed warm-up run, measures:
// n x `docker run --rm IMAGE true` (median), d sequential
// `docker run -d IMAGE sleep 300` (total), the VmRSS and PSS of the shims
// of those d running containers (median), n x `docker exec CTR true`
// (median) and one `docker rm -f` of the d containers (total). It prints
// every timing and a table of figures; it asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

type options struct {
	n, d  int
	bin   string
	level string
	keep  string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10, "runs of `run --rm` and of `exec`")
	flag.IntVar(&o.d, "d", 20, "containers started with `run -d` and removed with one `rm -f`")
	flag.StringVar(&o.bin, "bin", os.Getenv(daemon.BinaryEnv), "dockerd-lite binary (default: build ./cmd/dockerd-lite)")
	flag.StringVar(&o.level, "log-level", "info", "daemon --log-level")
	flag.StringVar(&o.keep, "keep-log", "", "copy the daemon log to this file")
	flag.Parse()
	benchkit.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) (err error) {
	if o.n < 1 || o.d < 1 {
		return errors.New("-n and -d must be at least 1")
	}
	id, bin, cleanup, err := benchkit.Setup(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	d, err := daemon.New(daemon.Config{Binary: bin, Identity: id, LogLevel: o.level})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Cleanup(context.WithoutCancel(ctx))) }()
	if err := shortExecRoot(d); err != nil {
		return err
	}
	if err := benchkit.StartDaemon(ctx, d); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, benchkit.StopDaemon(ctx, d, o.keep)) }()
	fmt.Printf("binary %s, user %s (uid %d), daemon pid %d, log level %s\n", bin, id.Name, id.UID, d.PID(), o.level)
	benchkit.PrintLoad()
	b, err := prepare(ctx, d)
	if err != nil {
		return err
	}
	rows, err := b.measure(ctx, o)
	if err != nil {
		return fmt.Errorf("%w\n--- daemon log tail ---\n%s", err, strings.Join(d.TailLog(30), "\n"))
	}
	benchkit.PrintTable("containers (docker CLI included)", rows)
	benchkit.PrintLoad() // again: other work on the machine skews every time figure
	return nil
}

// shortExecRoot moves the exec root under BaseDir/x: the runtime puts a
// unix socket at EXECROOT/c/<64-hex id>/shim.sock, which must fit in 107
// bytes, and BaseDir/run/dockerd-lite (the tests/daemon default) is too
// long for that under /tmp/dltest-NNNNNNNNNN.
func shortExecRoot(d *daemon.Daemon) error {
	d.ExecRoot = filepath.Join(d.BaseDir, "x")
	if n := len(d.ExecRoot) + len("/c/") + 64 + len("/shim.sock"); n > 107 {
		return fmt.Errorf("exec root %s gives %d-byte shim socket paths; set TMPDIR to a shorter directory", d.ExecRoot, n)
	}
	return nil
}

// prepare builds the busybox image where the daemon's user can read it and
// loads it with `docker load`.
func prepare(ctx context.Context, d *daemon.Daemon) (*bench, error) {
	cli, err := benchkit.NewCLI(d)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.BaseDir, "images")
	img, err := testimage.Build(ctx, testimage.Options{OutDir: dir})
	if err != nil {
		return nil, fmt.Errorf("build busybox image: %w", err)
	}
	if err := d.Identity().Chown(dir, img.DockerArchive); err != nil {
		return nil, err
	}
	out, took, err := cli.Run(ctx, "load", "-i", img.DockerArchive)
	if err != nil {
		return nil, err
	}
	fmt.Printf("docker load: %s (%s)\n", strings.TrimSpace(out), benchkit.Ms(took))
	return &bench{cli: cli, image: img.Tag, uid: d.Identity().UID}, nil
}
