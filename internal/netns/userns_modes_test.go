package netns

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRunRootlessKit(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("rootlesskit mode is for ordinary users; run this binary as one (runuser -u dltest)")
	}
	skipIfNoUserNS(t)
	sys, _ := hostSystem()
	p, _ := makePlan(sys)
	if p.mode != modeRootlessKit {
		t.Skipf("this user cannot use rootlesskit mode: %s", p.reason)
	}
	res := runTarget(t, p, nil)
	t.Logf("target report: %+v", res.report)
	wantExit(t, res.err, 0)
	checkCommon(t, res)
	uids := parseMapOrFatal(t, res.report.UIDMap)
	if got, _ := toHost(uids, 0); int(got) != os.Geteuid() || total(uids) < 2 {
		t.Errorf("uid map %q: want 0 -> %d plus the subordinate range", res.report.UIDMap, os.Geteuid())
	}
	if res.report.Setgroups != "allow" {
		t.Errorf("setgroups = %q, want allow with newgidmap", res.report.Setgroups)
	}
	if _, err := os.Stat(filepath.Join(res.stateDir, rootlessKitStateSubdir)); !os.IsNotExist(err) {
		t.Errorf("rootlesskit state dir not removed: %v", err)
	}
	if _, err := os.Stat(res.stateDir); err != nil {
		t.Errorf("state dir itself must survive: %v", err)
	}
}

func TestRunRootlessKitSignal(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("rootlesskit mode is for ordinary users; run this binary as one (runuser -u dltest)")
	}
	skipIfNoUserNS(t)
	sys, _ := hostSystem()
	p, _ := makePlan(sys)
	if p.mode != modeRootlessKit {
		t.Skipf("this user cannot use rootlesskit mode: %s", p.reason)
	}
	res := runTarget(t, p, bySignal(syscall.SIGTERM))
	wantExit(t, res.err, 42)
}

// singleIDPlan is the fallback plan; as root it maps 0 to nobody (65534) so
// the test exercises the same path without handing out host root.
func singleIDPlan() plan {
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	if uid == 0 {
		uid, gid = 65534, 65534
	}
	return plan{
		mode:   modeSingle,
		uids:   []IDRange{{ContainerID: 0, HostID: uid, Size: 1}},
		gids:   []IDRange{{ContainerID: 0, HostID: gid, Size: 1}},
		reason: "test reason",
		fix:    "test fix",
	}
}

func TestRunSingleID(t *testing.T) {
	skipIfNoUserNS(t)
	p := singleIDPlan()
	res := runTarget(t, p, bySignal(syscall.SIGHUP))
	wantExit(t, res.err, 43)
	checkCommon(t, res)
	uids := parseMapOrFatal(t, res.report.UIDMap)
	if len(uids) != 1 || uids[0] != p.uids[0] {
		t.Errorf("uid map %q, want %v", res.report.UIDMap, p.uids)
	}
	if res.report.Setgroups != "deny" {
		t.Errorf("setgroups = %q, want deny", res.report.Setgroups)
	}
	if n := strings.Count(res.logs, "level=warning"); n != 1 || !strings.Contains(res.logs, "fix: test fix") {
		t.Errorf("want exactly one warning naming the fix, got %d in:\n%s", n, res.logs)
	}
}

func TestRunRootMode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("root mode needs host root")
	}
	skipIfNoUserNS(t)
	sub := filepath.Join(t.TempDir(), "subid")
	if err := os.WriteFile(sub, []byte("root:300000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := rootPlan(system{euid: 0, name: "root", subUID: sub, subGID: sub})
	if err != nil {
		t.Fatal(err)
	}
	res := runTarget(t, p, bySignal(syscall.SIGTERM))
	wantExit(t, res.err, 42)
	checkCommon(t, res)
	if got := parseMapOrFatal(t, res.report.UIDMap); len(got) != 1 || got[0] != (IDRange{0, 300000, 65536}) {
		t.Errorf("uid map %q, want 0 300000 65536", res.report.UIDMap)
	}
	if len(res.report.Groups) != 0 {
		t.Errorf("supplementary groups %v survived into root mode", res.report.Groups)
	}
}

func TestRunRootModeChownsStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to the mapped root needs host root")
	}
	dir := t.TempDir()
	opt := Opt{StateDir: filepath.Join(dir, "state"), OwnedDirs: []string{filepath.Join(dir, "data")}}
	p := plan{mode: modeRoot, uids: []IDRange{{0, 300000, 65536}}, gids: []IDRange{{0, 310000, 65536}}}
	if err := chownOwned(opt, p); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{opt.StateDir, opt.OwnedDirs[0]} {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err != nil || st.Uid != 300000 || st.Gid != 310000 {
			t.Errorf("%s owned by %d:%d (%v), want 300000:310000", d, st.Uid, st.Gid, err)
		}
	}
}

func TestRunCancelSendsTerm(t *testing.T) {
	skipIfNoUserNS(t)
	res := runTarget(t, singleIDPlan(), byCancel)
	wantExit(t, res.err, 42)
}

func TestRunRootlessKitInterrupt(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("rootlesskit mode is for ordinary users; run this binary as one (runuser -u dltest)")
	}
	skipIfNoUserNS(t)
	sys, _ := hostSystem()
	p, _ := makePlan(sys)
	if p.mode != modeRootlessKit {
		t.Skipf("this user cannot use rootlesskit mode: %s", p.reason)
	}
	res := runTarget(t, p, bySignal(syscall.SIGINT))
	wantExit(t, res.err, 44)
}
