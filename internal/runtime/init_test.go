package runtime

import (
	"debug/elf"
	"os"
	"strings"
	"syscall"
	"testing"
)

// staticSelf returns the test binary when it is statically linked: the
// --init binary is bind-mounted into images that have no libc. Build with
// go test -c -ldflags '-linkmode=external -extldflags=-static' to run these.
func staticSelf(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Skip("test binary is dynamically linked; --init needs a static build (-ldflags '-linkmode=external -extldflags=-static')")
		}
	}
	return exe
}

func TestInitReapsZombies(t *testing.T) {
	r, _ := newTestRuntime(t)
	self := staticSelf(t)
	// The inner sh exits at once, orphaning a sleep that pid 1 must reap.
	script := `sh -c "sleep 0.2 &"; sleep 1; echo zombies=$(cat /proc/[0-9]*/stat | grep -c ') Z '); tr '\0' ' ' </proc/1/cmdline`
	spec := testSpec(t, func(o *SpecOpt) { o.Init, o.InitPath = true, self }, "sh", "-c", script)
	ex, logText := run(t, r, "c1", spec, IOOpt{})
	if ex.ExitCode != 0 || !strings.Contains(logText, `zombies=0\n`) || !strings.Contains(logText, InitPathInContainer+" -- sh") {
		t.Fatalf("exit %+v log %s", ex, logText)
	}
}

func TestInitForwardsSignals(t *testing.T) {
	r, _ := newTestRuntime(t)
	self := staticSelf(t)
	ctx := testCtx(t)
	spec := testSpec(t, func(o *SpecOpt) { o.Init, o.InitPath = true, self }, "sleep", "100")
	if err := r.Create(ctx, "c1", spec, IOOpt{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	// Without an init, sleep as pid 1 would ignore SIGTERM.
	waitFor(t, func() bool { p, _ := r.Pids(ctx, "c1"); return len(p) == 2 })
	if err := r.Signal(ctx, "c1", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ex, err := r.Wait(ctx, "c1"); err != nil || ex.ExitCode != 143 {
		t.Fatalf("wait %+v %v", ex, err)
	}
}

func TestSeccompDefaultProfile(t *testing.T) {
	r, _ := newTestRuntime(t)
	if !SeccompSupported {
		t.Skip("built without -tags seccomp")
	}
	// unshare is denied by Docker's default profile without CAP_SYS_ADMIN.
	spec := testSpec(t, func(o *SpecOpt) { o.Seccomp = "" }, "unshare", "-U", "true")
	if ex, logText := run(t, r, "c1", spec, IOOpt{}); ex.ExitCode == 0 {
		t.Fatalf("unshare allowed under the default profile: %s", logText)
	}
	spec = testSpec(t, func(o *SpecOpt) { o.Seccomp = "unconfined" }, "unshare", "-U", "true")
	if ex, logText := run(t, r, "c2", spec, IOOpt{}); ex.ExitCode != 0 {
		t.Fatalf("unshare denied when unconfined: %+v %s", ex, logText)
	}
}

func TestCapDropAllAndReadonlyRootfs(t *testing.T) {
	r, _ := newTestRuntime(t)
	spec := testSpec(t, func(o *SpecOpt) { o.CapDrop, o.ReadonlyRootfs = []string{"ALL"}, true },
		"sh", "-c", "grep CapEff /proc/self/status; touch /x && echo writable; cat /proc/kcore >/dev/null 2>&1 || echo masked")
	ex, logText := run(t, r, "c1", spec, IOOpt{})
	if ex.ExitCode != 0 || !strings.Contains(logText, `CapEff:\t0000000000000000`) || strings.Contains(logText, "writable") ||
		!strings.Contains(logText, "masked") {
		t.Fatalf("exit %+v log %s", ex, logText)
	}
}
