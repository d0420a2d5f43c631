package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// probeResult is the outcome of one netns.ProbeOverlay run.
type probeResult struct {
	option string // extra mount option that was needed
	err    error
}

func runProbe(ctx context.Context, dir string) probeResult {
	opt, err := netns.ProbeOverlay(ctx, dir)
	return probeResult{option: opt, err: err}
}

// OverlayUsable reports whether native overlay mounts work in a user
// namespace on the filesystem of dir (the storage driver choice). When they
// do not, the error says why.
func OverlayUsable(ctx context.Context, dir string) (bool, error) {
	if _, err := netns.ProbeOverlay(ctx, dir); err != nil {
		return false, err
	}
	return true, nil
}

// checkUserNS combines the sysctls with the probe, which really created a
// user namespace.
func (h env) checkUserNS(p probeResult) Finding {
	f := Finding{Name: "user namespaces"}
	sysctls := h.usernsSysctls()
	switch {
	case errors.Is(p.err, netns.ErrUserNamespace) && h.id.mapping.InUserNS:
		f.Status, f.Detail = Warn, fmt.Sprintf("inside the daemon's namespace (%s); nested ones fail: %v", h.id.mapping, p.err)
	case errors.Is(p.err, netns.ErrUserNamespace):
		f.Status, f.Detail = Fail, fmt.Sprintf("the kernel refuses them (%s): %v", strings.Join(sysctls.seen, ", "), p.err)
		f.Fix = sysctls.fix
		if f.Fix == "" {
			f.Fix = "enable CONFIG_USER_NS in the kernel, or allow unprivileged user namespaces in the container or security policy running this"
		}
	case h.id.mapping.InUserNS && h.id.mapping.Single():
		f.Status, f.Detail = Warn, fmt.Sprintf("inside a single-id namespace (%s): only uid/gid 0 exist in containers", h.id.mapping)
		f.Fix = h.singleIDFix()
	case h.id.mapping.InUserNS:
		f.Status, f.Detail = OK, fmt.Sprintf("inside the daemon's namespace (%s)", h.id.mapping)
	default:
		f.Status, f.Detail = OK, "available ("+strings.Join(sysctls.seen, ", ")+")"
	}
	return f
}

// singleIDFix says how to get the full mapping: add a range when there is
// none, else look at why newuidmap was not used.
func (h env) singleIDFix() string {
	if rs, err := netns.LookupSubIDs(h.subUID, h.id.name, h.id.uid); err == nil && len(rs) > 0 {
		return "the subordinate range exists: make newuidmap/newgidmap usable (apt-get install uidmap) and restart the daemon"
	}
	return fmt.Sprintf("add %q to %s and %s, apt-get install uidmap", netns.SuggestSubIDLine(h.subUID, h.id.name), h.subUID, h.subGID)
}

type sysctlReport struct {
	seen []string // "name=value" for the sysctls that exist
	fix  string   // the sysctl settings that would allow user namespaces
}

func (h env) usernsSysctls() sysctlReport {
	var r sysctlReport
	var fixes []string
	for _, s := range []struct{ path, bad, good string }{
		{"kernel/unprivileged_userns_clone", "0", "1"},
		{"user/max_user_namespaces", "0", "15000"},
		{"kernel/apparmor_restrict_unprivileged_userns", "1", "0"},
	} {
		b, err := os.ReadFile(filepath.Join(h.sysctl, s.path))
		if err != nil {
			continue
		}
		name := strings.ReplaceAll(s.path, "/", ".")
		v := strings.TrimSpace(string(b))
		r.seen = append(r.seen, name+"="+v)
		if v == s.bad {
			fixes = append(fixes, fmt.Sprintf("sysctl -w %s=%s", name, s.good))
		}
	}
	r.fix = strings.Join(fixes, "; ")
	return r
}

func checkOverlay(p probeResult) Finding {
	f := Finding{Name: "overlay"}
	if p.err == nil {
		f.Status, f.Detail = OK, "native overlay works in a user namespace"
		if p.option != "" {
			f.Detail += " (with " + p.option + ")"
		}
		return f
	}
	f.Status = Warn
	if _, err := exec.LookPath("fuse-overlayfs"); err == nil {
		f.Detail = fmt.Sprintf("native overlay unusable in a user namespace (%v); fuse-overlayfs will be used", p.err)
		f.Fix = "Linux >= 5.11 for native overlay in user namespaces (faster than fuse-overlayfs)"
		return f
	}
	f.Detail = fmt.Sprintf("native overlay unusable in a user namespace (%v) and fuse-overlayfs is not installed; vfs will be used (every layer copied in full)", p.err)
	f.Fix = "apt-get install fuse-overlayfs, or use Linux >= 5.11"
	return f
}
