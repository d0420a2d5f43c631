// Command ports measures published ports: TCP throughput host -> published
// port -> container, and connection setup (connect plus the first byte the
// container sends), against the same server on the host's loopback:
//
//	go run ./hack/bench/ports [-mib 512] [-runs 3] [-n 200] [-bin path]
//
// It starts one daemon the way tests/e2e/harness does, loads the busybox
// test image, builds a small static server (a sink that reads until EOF
// and a greeter that writes one byte per connection, both without a
// process per connection) and runs it in a container with both ports
// published on every host address. The published ports are measured twice:
// through 127.0.0.1 (the container sees the gateway) and, when the host
// has one, through its first non-loopback IPv4 address (the daemon keeps
// the client's address: a transparent socket in the sandbox). Each target
// gets -runs transfers of -mib MiB (median MiB/s) and -n connects
// (median). It asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

// hostLoopback names the baseline target: no daemon, no forwarder.
const hostLoopback = "host loopback (no forwarder)"

type options struct {
	mib, runs, n int
	daemon       benchkit.DaemonOpt
}

func main() {
	var o options
	flag.IntVar(&o.mib, "mib", 512, "MiB sent per throughput run")
	flag.IntVar(&o.runs, "runs", 3, "throughput runs per target")
	flag.IntVar(&o.n, "n", 200, "connects per target")
	o.daemon.Flags()
	flag.Parse()
	benchkit.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	if o.mib < 1 || o.runs < 1 || o.n < 1 {
		return errors.New("-mib, -runs and -n must be at least 1")
	}
	return benchkit.WithDaemon(ctx, o.daemon,
		func(ctx context.Context, d *daemon.Daemon) error {
			rows, err := measureAll(ctx, d, o)
			if err != nil {
				return err
			}
			benchkit.PrintTable("published ports (TCP)", rows)
			return nil
		})
}

// measureAll measures the host baseline, then the published ports.
func measureAll(ctx context.Context, d *daemon.Daemon, o options) ([]benchkit.Row, error) {
	hs, err := startHostServer()
	if err != nil {
		return nil, err
	}
	defer hs.close()
	rows, err := measureTarget(ctx, target{name: hostLoopback, sink: hs.sink.Addr().String(), greet: hs.greet.Addr().String()}, o)
	if err != nil {
		return nil, err
	}
	pubs, err := publish(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, pub := range pubs {
		more, err := measureTarget(ctx, pub, o)
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
	}
	return rows, nil
}

// publish runs the server in a container with both ports published on
// every address (host ports picked by the daemon), waits until it answers
// and returns the targets to measure.
func publish(ctx context.Context, d *daemon.Daemon) ([]target, error) {
	cli, err := benchkit.NewCLI(d)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.BaseDir, "ports")
	img, err := testimage.Build(ctx, testimage.Options{OutDir: dir})
	if err != nil {
		return nil, fmt.Errorf("build busybox image: %w", err)
	}
	srv, err := buildServer(ctx, dir)
	if err != nil {
		return nil, err
	}
	if err := d.Identity().Chown(dir, img.DockerArchive, srv); err != nil {
		return nil, err
	}
	if _, _, err := cli.Run(ctx, "load", "-i", img.DockerArchive); err != nil {
		return nil, err
	}
	out, took, err := cli.Run(ctx, "run", "-d", "-v", srv+":/portsrv:ro",
		"-p", strconv.Itoa(sinkPort), "-p", strconv.Itoa(greetPort), img.Tag, "/portsrv")
	if err != nil {
		return nil, err
	}
	fmt.Printf("docker run -d with two published ports: %s\n", benchkit.Ms(took))
	return publishedTargets(ctx, cli, strings.TrimSpace(out))
}

// publishedTargets reads the host ports with docker port and names the
// loopback and, if the host has one, the non-loopback target.
func publishedTargets(ctx context.Context, cli *benchkit.CLI, id string) ([]target, error) {
	var ports [2]string
	for i, p := range []int{sinkPort, greetPort} {
		out, _, err := cli.Run(ctx, "port", id, fmt.Sprintf("%d/tcp", p))
		if err != nil {
			return nil, err
		}
		_, ports[i], _ = strings.Cut(strings.Fields(out)[0], ":")
	}
	hosts := []string{"127.0.0.1"}
	if ip := hostIPv4(); ip != "" {
		hosts = append(hosts, ip)
	}
	var out []target
	for _, h := range hosts {
		t := target{name: "published port via " + h, sink: net.JoinHostPort(h, ports[0]), greet: net.JoinHostPort(h, ports[1])}
		if h != "127.0.0.1" {
			t.name += " (client address kept)"
		}
		if err := waitServing(ctx, t.greet); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// hostIPv4 is the host's first non-loopback IPv4 address, or "".
func hostIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}
