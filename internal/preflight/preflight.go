package preflight

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/log"
)

// Status is the outcome of one check.
type Status int

// Statuses, from best to worst.
const (
	OK Status = iota
	Warn
	Fail
)

// String returns "OK", "WARN" or "FAIL".
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	default:
		return "FAIL"
	}
}

// Finding is the result of one check.
type Finding struct {
	Name   string // what was checked, e.g. "user namespaces"
	Status Status
	Detail string // what was found
	Fix    string // how to fix it; empty when Status is OK
}

// String renders the finding on one line, for logs and errors.
func (f Finding) String() string {
	s := fmt.Sprintf("%s %s: %s", f.Status, f.Name, f.Detail)
	if f.Fix != "" {
		s += " (fix: " + f.Fix + ")"
	}
	return s
}

// Opt tunes Check.
type Opt struct {
	// ProbeDir is where the overlay probe mounts; it should be on the
	// filesystem of the data root. Default: the data root
	// ($XDG_DATA_HOME/dockerd-lite or ~/.local/share/dockerd-lite) if it
	// exists, else os.TempDir().
	ProbeDir string
	// CgroupParent is the daemon's cgroup-parent setting ("" for its own
	// cgroup), where the cgroup check looks for writable hierarchies.
	CgroupParent string
}

// Run performs every check with the default Opt.
func Run(ctx context.Context) []Finding {
	return Check(ctx, Opt{})
}

// Check performs every check. The overlay probe runs concurrently with the
// others; the result is in a fixed order.
func Check(ctx context.Context, opt Opt) []Finding {
	if opt.ProbeDir == "" {
		opt.ProbeDir = defaultProbeDir()
	}
	h := hostEnv()
	probe := make(chan probeResult, 1)
	go func() { probe <- runProbe(ctx, opt.ProbeDir) }()
	fs := []Finding{
		h.checkSubIDs(),
		h.checkIDMapHelpers(),
		checkSlirp4netns(ctx),
		h.checkTun(),
		h.checkCgroup(opt.CgroupParent),
	}
	p := <-probe
	fs = append([]Finding{h.checkUserNS(p)}, fs...)
	fs = append(fs, checkOverlay(p))
	if h.id.root {
		fs = append(fs, h.rootMode())
	}
	return fs
}

// Worst returns the worst status in fs (OK for none).
func Worst(fs []Finding) Status {
	w := OK
	for _, f := range fs {
		w = max(w, f.Status)
	}
	return w
}

// Print writes one aligned line per finding and an indented "fix:" line
// under each that has a fix:
//
//	OK    user namespaces   available (max_user_namespaces=15000)
//	WARN  /dev/net/tun      not readable and writable by alice
//	      fix: chmod 0666 /dev/net/tun
func Print(w io.Writer, fs []Finding) {
	width := 0
	for _, f := range fs {
		width = max(width, len(f.Name))
	}
	for _, f := range fs {
		fmt.Fprintf(w, "%-6s%-*s  %s\n", f.Status, width, f.Name, f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(w, "%6sfix: %s\n", "", f.Fix)
		}
	}
}

// Log writes the findings to the ctx logger: OK at info, WARN at warning and
// FAIL at error level, with the fix as a field.
func Log(ctx context.Context, fs []Finding) {
	for _, f := range fs {
		e := log.G(ctx).WithField("check", f.Name)
		if f.Fix != "" {
			e = e.WithField("fix", f.Fix)
		}
		switch f.Status {
		case OK:
			e.Info(f.Detail)
		case Warn:
			e.Warn(f.Detail)
		default:
			e.Error(f.Detail)
		}
	}
}

func defaultProbeDir() string {
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, _ := os.UserHomeDir()
		data = filepath.Join(home, ".local", "share")
	}
	root := filepath.Join(data, "dockerd-lite")
	if st, err := os.Stat(root); err == nil && st.IsDir() && filepath.IsAbs(root) {
		return root
	}
	return os.TempDir()
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
