package benchkit

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// Binary returns the daemon to measure: path (copied where the test user
// can run it when we are root), or a fresh build of ./cmd/dockerd-lite. The
// cleanup function removes the copy or build.
func Binary(ctx context.Context, path string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "dl-bench-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("create binary dir: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	var bin string
	if path != "" {
		bin, err = daemon.Prebuilt(path, dir)
	} else {
		bin, err = daemon.Build(ctx, dir)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return bin, cleanup, nil
}

// Median returns the median of values (the mean of the two middle ones for
// an even count) without reordering values; zero for none.
func Median[T int | int64 | float64 | time.Duration](values []T) T {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.SortFunc(s, cmp.Compare[T])
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Ms formats d as milliseconds with one decimal.
func Ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// MiB formats a KiB count as MiB with one decimal.
func MiB(kib int) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// Row is one line of the figure table.
type Row struct {
	// Figure names what was measured.
	Figure string
	// Value is the measured value, formatted.
	Value string
	// Target is the goal from the issue, formatted ("< 50 ms").
	Target string
}

// PrintTable prints rows under a title as an aligned three-column table.
func PrintTable(title string, rows []Row) {
	fmt.Printf("\n== %s ==\n", title)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "figure\tvalue\ttarget")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Figure, r.Value, r.Target)
	}
	_ = w.Flush()
}

// Durations formats every duration of ds in milliseconds, space-separated.
func Durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
	}
	return strings.Join(parts, " ")
}

// PrintLoad prints the load average, since other work on the machine
// skews every figure.
func PrintLoad() {
	b, err := os.ReadFile("/proc/loadavg")
	if err == nil {
		fmt.Printf("load average: %s", b)
	}
}

// Main runs a benchmark program's body with a context that ends on
// Ctrl-C, and exits 1 with the error it returns.
func Main(run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// Setup returns the user the daemons run as and the binary to run (see
// Binary); cleanup removes a binary it built.
func Setup(ctx context.Context, path string) (daemon.Identity, string, func(), error) {
	id, err := daemon.CurrentIdentity()
	if err != nil {
		return daemon.Identity{}, "", nil, err
	}
	bin, cleanup, err := Binary(ctx, path)
	return id, bin, cleanup, err
}

// DaemonOpt configures WithDaemon.
type DaemonOpt struct {
	Binary   string // dockerd-lite to run; empty: build ./cmd/dockerd-lite
	LogLevel string
	KeepLog  string // copy the daemon log here when done
}

// Flags registers -bin, -log-level and -keep-log on the command line.
func (o *DaemonOpt) Flags() {
	flag.StringVar(&o.Binary, "bin", os.Getenv(daemon.BinaryEnv), "dockerd-lite binary (default: build ./cmd/dockerd-lite)")
	flag.StringVar(&o.LogLevel, "log-level", "info", "daemon --log-level")
	flag.StringVar(&o.KeepLog, "keep-log", "", "copy the daemon log to this file")
}

// WithDaemon runs fn against a fresh daemon as the bench user, on a short
// exec root, and stops and removes everything (containers included)
// afterwards. fn's error carries the daemon log's tail.
func WithDaemon(ctx context.Context, o DaemonOpt, fn func(ctx context.Context, d *daemon.Daemon) error) (err error) {
	id, bin, cleanup, err := Setup(ctx, o.Binary)
	if err != nil {
		return err
	}
	defer cleanup()
	d, err := daemon.New(daemon.Config{Binary: bin, Identity: id, LogLevel: o.LogLevel})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Cleanup(context.WithoutCancel(ctx))) }()
	if err := shortExecRoot(d); err != nil {
		return err
	}
	if err := startDaemon(ctx, d); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopDaemon(ctx, d, o.KeepLog)) }()
	fmt.Printf("binary %s, user %s (uid %d), daemon pid %d, log level %s\n", bin, id.Name, id.UID, d.PID(), o.LogLevel)
	PrintLoad()
	if err := fn(ctx, d); err != nil {
		return fmt.Errorf("%w\n--- daemon log tail ---\n%s", err, strings.Join(d.TailLog(30), "\n"))
	}
	return nil
}

// shortExecRoot moves the exec root under BaseDir/x: the runtime puts a
// unix socket at EXECROOT/c/<16-hex id prefix>/shim.sock, which must fit in
// 107 bytes, and BaseDir/run/dockerd-lite (the tests/daemon default) can be
// too long for that under a long TMPDIR.
func shortExecRoot(d *daemon.Daemon) error {
	d.ExecRoot = filepath.Join(d.BaseDir, "x")
	if n := len(d.ExecRoot) + len("/c/") + 64 + len("/shim.sock"); n > 107 {
		return fmt.Errorf("exec root %s gives %d-byte shim socket paths; set TMPDIR to a shorter directory", d.ExecRoot, n)
	}
	return nil
}

func startDaemon(ctx context.Context, d *daemon.Daemon) error {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return d.Start(rctx)
}

// stopDaemon stops d, also when ctx has ended; with keep set it writes the
// daemon's log there.
func stopDaemon(ctx context.Context, d *daemon.Daemon, keep string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := d.Stop(sctx)
	if keep != "" {
		err = errors.Join(err, os.WriteFile(keep, []byte(d.Log()), 0o644))
	}
	return err
}
