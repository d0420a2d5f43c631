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
	"path/filepath"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

type options struct {
	n, d   int
	daemon benchkit.DaemonOpt
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10, "runs of `run --rm` and of `exec`")
	flag.IntVar(&o.d, "d", 20, "containers started with `run -d` and removed with one `rm -f`")
	o.daemon.Flags()
	flag.Parse()
	benchkit.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	if o.n < 1 || o.d < 1 {
		return errors.New("-n and -d must be at least 1")
	}
	return benchkit.WithDaemon(ctx, o.daemon,
		func(ctx context.Context, d *daemon.Daemon) error {
			b, err := prepare(ctx, d)
			if err != nil {
				return err
			}
			rows, err := b.measure(ctx, o)
			if err != nil {
				return err
			}
			benchkit.PrintTable("containers (docker CLI included)", rows)
			benchkit.PrintLoad() // again: other work on the machine skews every time figure
			return nil
		})
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
