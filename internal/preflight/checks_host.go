package preflight

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

func checkSlirp4netns(ctx context.Context) Finding {
	f := Finding{Name: "slirp4netns"}
	path, err := exec.LookPath("slirp4netns")
	if err != nil {
		f.Status, f.Detail, f.Fix = Warn, "not found: containers get no outbound network", "apt-get install slirp4netns"
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("%s --version failed: %v", path, err), "reinstall slirp4netns"
		return f
	}
	f.Status, f.Detail = OK, fmt.Sprintf("%s (%s)", path, firstLine(out))
	return f
}

// checkTun: slirp4netns opens /dev/net/tun from inside the user namespace,
// where the host owner (root) is unmapped, so the daemon's access comes
// from the "other" bits unless the host user owns the device.
func (h env) checkTun() Finding {
	f := Finding{Name: "/dev/net/tun"}
	var st unix.Stat_t
	if err := unix.Stat(h.tun, &st); err != nil {
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("%v: containers get no network", err), "modprobe tun"
		return f
	}
	if !tunUsable(st, h.id) {
		f.Status = Warn
		f.Detail = fmt.Sprintf("mode %04o: not readable and writable by %s, so slirp4netns cannot give containers a network", st.Mode&0o7777, h.id.name)
		f.Fix = fmt.Sprintf("chmod 0666 %s (persist it with a udev rule: KERNEL==\"tun\", MODE=\"0666\")", h.tun)
		return f
	}
	f.Status, f.Detail = OK, fmt.Sprintf("readable and writable by %s", h.id.name)
	return f
}

func tunUsable(st unix.Stat_t, id identity) bool {
	mode := st.Mode
	switch {
	case !id.root && int(st.Uid) == id.uid:
		return mode&0o600 == 0o600
	case !id.root && int(st.Gid) == id.gid:
		return mode&0o060 == 0o060 || mode&0o006 == 0o006
	default:
		return mode&0o006 == 0o006
	}
}
