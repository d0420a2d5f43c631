package runtime

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestFilterEncoding(t *testing.T) {
	f := &bpfFilter{Via: loadSeccomp, Flags: 4, Insns: []unix.SockFilter{{Code: 6, K: 0x7fff0000}, {Code: 0x20, Jt: 1, Jf: 2, K: 4}}}
	got, id, err := decodeFilter(f.encode("abc"))
	if err != nil || id != "abc" || got.Via != f.Via || got.Flags != f.Flags || len(got.Insns) != 2 || got.Insns[1] != f.Insns[1] {
		t.Fatalf("round trip: %+v %q %v", got, id, err)
	}
	for _, b := range [][]byte{nil, []byte("DLBPF"), (&bpfFilter{Via: 9, Insns: f.Insns}).encode(""), (&bpfFilter{Via: loadPrctl}).encode("")} {
		if _, _, err := decodeFilter(b); err == nil {
			t.Fatalf("decoded a malformed filter %q", b)
		}
	}
}

// TestCompileFilter runs the compile helper (this test binary) on Docker's
// default profile; it needs neither privileges nor namespaces.
func TestCompileFilter(t *testing.T) {
	if !filterCompileSupported {
		t.Skip("this build cannot precompile seccomp profiles")
	}
	spec := testSpecNoRootfs(t)
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: "x", Spec: spec, RootlessEUID: true, RootlessCgroups: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg.Seccomp)
	f, err := compileFilter(testCtx(t), b)
	if err != nil {
		t.Fatal(err)
	}
	// The default profile is hundreds of rules; its last instruction
	// returns a verdict.
	if len(f.Insns) < 100 || f.Insns[len(f.Insns)-1].Code != unix.BPF_RET|unix.BPF_K {
		t.Fatalf("implausible program: %d instructions, last %+v", len(f.Insns), f.Insns[len(f.Insns)-1])
	}
	if _, err := compileFilter(testCtx(t), []byte("{")); err == nil {
		t.Fatal("compiled a broken config")
	}
}

func testSpecNoRootfs(t *testing.T) *specs.Spec {
	t.Helper()
	s, err := NewSpec(SpecOpt{Rootfs: "/r", Args: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Annotations[annotSeccomp] != seccompDefault || s.Linux.Seccomp == nil {
		t.Fatalf("default profile not marked: %v", s.Annotations)
	}
	return s
}

// TestExecPrecompiledSeccomp: execs of a container with the default
// profile run under the handed-over filter, which denies what the profile
// denies; a container without a profile gets none.
func TestExecPrecompiledSeccomp(t *testing.T) {
	r, dir := newTestRuntime(t)
	if !SeccompSupported || !filterCompileSupported {
		t.Skip("this build cannot precompile seccomp profiles")
	}
	startSleeper(t, r, "c1")
	for i := range 2 { // the first compiles, the second uses the memoized filter
		if status := execOut(t, r, "c1", "grep", "Seccomp:", "/proc/self/status"); !strings.Contains(status, "2") {
			t.Fatalf("exec %d not filtered: %q", i, status)
		}
		if ex, err := r.Exec(testCtx(t), "c1", "", execProc("unshare", "-U", "true"), ExecOpt{}); err != nil || ex.ExitCode == 0 {
			t.Fatalf("unshare allowed in exec %d: %+v %v", i, ex, err)
		}
	}
	if cached, _ := filepath.Glob(filepath.Join(dir, "run", filterCacheDir, "*")); len(cached) != 1 {
		t.Fatalf("compiled profile not cached: %v", cached)
	}
	// The filter came from the shim: libcontainer no longer has the profile.
	var st struct {
		Config struct {
			Seccomp      *json.RawMessage `json:"seccomp"`
			NoNewKeyring bool             `json:"no_new_keyring"`
		} `json:"config"`
	}
	b, err := os.ReadFile(filepath.Join(r.runDir("c1"), "lc", "c1", "state.json"))
	if err != nil || json.Unmarshal(b, &st) != nil || st.Config.Seccomp != nil || !st.Config.NoNewKeyring {
		t.Fatalf("libcontainer still compiles the profile: %v %+v", err, st)
	}
	if err := r.Create(testCtx(t), "c2", testSpec(t, func(o *SpecOpt) { o.Seccomp = "unconfined" }, "sleep", "1000"), IOOpt{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(testCtx(t), "c2"); err != nil {
		t.Fatal(err)
	}
	if status := execOut(t, r, "c2", "grep", "Seccomp:", "/proc/self/status"); !strings.Contains(status, "0") {
		t.Fatalf("unconfined exec filtered: %q", status)
	}
}

func execProc(args ...string) *specs.Process {
	return &specs.Process{Args: args, Cwd: "/", Env: []string{defaultPath}}
}

func execOut(t *testing.T, r *Runtime, id string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	ex, err := r.Exec(testCtx(t), id, "", execProc(args...), ExecOpt{Stdout: &out, Stderr: os.Stderr})
	if err != nil || ex.ExitCode != 0 {
		t.Fatalf("exec %v: %+v %v", args, ex, err)
	}
	return out.String()
}

// TestProfileArchitectures: the x32 part of the profile is there exactly
// when the kernel runs x32 code; the 32-bit x86 part always is on amd64.
func TestProfileArchitectures(t *testing.T) {
	if !SeccompSupported {
		t.Skip("built without -tags seccomp")
	}
	arches := testSpecNoRootfs(t).Linux.Seccomp.Architectures
	if slices.Contains(arches, specs.ArchX32) != kernelRunsX32() {
		t.Fatalf("architectures %v, kernel runs x32: %v", arches, kernelRunsX32())
	}
	if goruntime.GOARCH == "amd64" && (!slices.Contains(arches, specs.ArchX86) || !slices.Contains(arches, specs.ArchX86_64)) {
		t.Fatalf("architectures %v", arches)
	}
}

// TestExecNoNewPrivileges: an exec inherits the container's no_new_privs
// and still runs under its profile.
func TestExecNoNewPrivileges(t *testing.T) {
	r, _ := newTestRuntime(t)
	spec := testSpec(t, func(o *SpecOpt) { o.NoNewPrivileges = true }, "sleep", "1000")
	if err := r.Create(testCtx(t), "c1", spec, IOOpt{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(testCtx(t), "c1"); err != nil {
		t.Fatal(err)
	}
	status := execOut(t, r, "c1", "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status")
	want := "NoNewPrivs:\t1\nSeccomp:\t0\n"
	if SeccompSupported {
		want = "NoNewPrivs:\t1\nSeccomp:\t2\n"
	}
	if status != want {
		t.Fatalf("exec status %q, want %q", status, want)
	}
}
