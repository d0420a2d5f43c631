package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseIDMap(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []IDRange
		wantErr bool
	}{
		{"identity", "         0          0 4294967295\n", []IDRange{{0, 0, 4294967295}}, false},
		{"rootless", "0 1000 1\n1 100000 65536\n", []IDRange{{0, 1000, 1}, {1, 100000, 65536}}, false},
		{"empty", "", nil, false},
		{"two fields", "0 1000\n", nil, true},
		{"not a number", "0 x 1\n", nil, true},
		{"overflow", "0 0 4294967296\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIDMap(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseIDMap(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	single := Mapping{UIDs: []IDRange{{0, 1000, 1}}, GIDs: []IDRange{{0, 1000, 1}}, InUserNS: true}
	full := Mapping{UIDs: []IDRange{{0, 1000, 1}, {1, 100000, 65536}}, GIDs: []IDRange{{0, 1000, 1}, {1, 100000, 65536}}}
	if !single.Single() || full.Single() {
		t.Errorf("Single: single=%v full=%v", single.Single(), full.Single())
	}
	if uid, ok := full.HostUID(); !ok || uid != 1000 {
		t.Errorf("HostUID = %d, %v", uid, ok)
	}
	if h, ok := toHost(full.UIDs, 65536); !ok || h != 165535 {
		t.Errorf("toHost(65536) = %d, %v", h, ok)
	}
	if _, ok := toHost(full.UIDs, 65537); ok {
		t.Error("toHost(65537) mapped beyond the range")
	}
	if !isIdentity([]IDRange{{0, 0, 4294967295}}) || isIdentity(full.UIDs) {
		t.Error("isIdentity")
	}
}

func TestCurrentMapping(t *testing.T) {
	m, err := CurrentMapping()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.UIDs) == 0 || len(m.GIDs) == 0 {
		t.Fatalf("empty mapping %+v", m)
	}
	if _, ok := toHost(m.UIDs, uint32(os.Geteuid())); !ok {
		t.Errorf("own euid %d not in uid map %v", os.Geteuid(), m.UIDs)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "subid")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookupSubIDs(t *testing.T) {
	p := writeFile(t, "# comment\nalice:100000:65536\n\n1001:200000:1000\nbob:300000:65536\nalice:400000:10\n")
	got, err := LookupSubIDs(p, "alice", 1001)
	if err != nil {
		t.Fatal(err)
	}
	want := []SubIDRange{{100000, 65536}, {200000, 1000}, {400000, 10}}
	if !reflect.DeepEqual(got, want) || SubIDTotal(got) != 66546 {
		t.Errorf("LookupSubIDs = %v (total %d), want %v", got, SubIDTotal(got), want)
	}
	if got, err := LookupSubIDs(filepath.Join(t.TempDir(), "missing"), "alice", 1); err != nil || got != nil {
		t.Errorf("missing file: %v, %v", got, err)
	}
	if _, err := LookupSubIDs(writeFile(t, "alice:x:1\n"), "alice", 1); err == nil {
		t.Error("malformed start accepted")
	}
	if _, err := LookupSubIDs(writeFile(t, "alice:1\n"), "alice", 1); err == nil {
		t.Error("two-field line accepted")
	}
}

func TestSuggestSubIDLine(t *testing.T) {
	tests := []struct{ file, want string }{
		{"", "carol:100000:65536"},
		{"bob:165536:65536\nalice:100000:65536\n", "carol:231072:65536"},
		{"bob:500000:65536\n", "carol:100000:65536"},
	}
	for _, tc := range tests {
		if got := SuggestSubIDLine(writeFile(t, tc.file), "carol"); got != tc.want {
			t.Errorf("SuggestSubIDLine(%q) = %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestRootPlan(t *testing.T) {
	_, err := rootPlan(system{euid: 0, name: "root", subUID: writeFile(t, "alice:100000:65536\n"), subGID: writeFile(t, "")})
	if err == nil || !strings.Contains(err.Error(), `"root:165536:65536"`) || !strings.Contains(err.Error(), `"root:100000:65536"`) {
		t.Errorf("missing root range: err = %v, want the lines to add", err)
	}
	p, err := rootPlan(system{euid: 0, subUID: writeFile(t, "root:300000:1000\n0:400000:100000\n"), subGID: writeFile(t, "root:500000:65536\n")})
	if err != nil {
		t.Fatal(err)
	}
	wantU := []IDRange{{0, 300000, 1000}, {1000, 400000, 64536}}
	if p.mode != modeRoot || !reflect.DeepEqual(p.uids, wantU) || !reflect.DeepEqual(p.gids, []IDRange{{0, 500000, 65536}}) {
		t.Errorf("rootPlan = %+v", p)
	}
}

func TestRootlessPlan(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/x", nil }
	missing := func(n string) (string, error) { return "", exec.ErrNotFound }
	ranged := writeFile(t, "alice:100000:65536\n")
	tests := []struct {
		name      string
		sub       string
		helper    func(string) (string, error)
		want      mode
		wantInFix []string
	}{
		{"full", ranged, found, modeRootlessKit, nil},
		{"no range", writeFile(t, "bob:100000:65536\n"), found, modeSingle, []string{`add "alice:165536:65536"`}},
		{"no newuidmap", ranged, missing, modeSingle, []string{"apt-get install uidmap"}},
		{"neither", writeFile(t, ""), missing, modeSingle, []string{`"alice:100000:65536"`, "uidmap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := rootlessPlan(system{euid: 1000, egid: 1000, name: "alice", subUID: tc.sub, subGID: tc.sub, idmapHelper: tc.helper})
			if p.mode != tc.want {
				t.Fatalf("mode = %v, want %v", p.mode, tc.want)
			}
			for _, s := range tc.wantInFix {
				if !strings.Contains(p.fix, s) {
					t.Errorf("fix %q lacks %q", p.fix, s)
				}
			}
			if p.mode == modeSingle && (p.uids[0] != IDRange{0, 1000, 1} || p.reason == "") {
				t.Errorf("single plan = %+v", p)
			}
		})
	}
}

func TestPrivateEnv(t *testing.T) {
	for kv, want := range map[string]bool{
		"LISTEN_FDS=2": true, "LISTEN_PID=1": true, helperEnv + "=x": true, configEnv + "={}": true,
		"_ROOTLESSKIT_REEXEC_COUNT_1_2=1": true, "ROOTLESSKIT_STATE_DIR=/x": false, "HOME=/root": false,
	} {
		if got := privateEnv(kv); got != want {
			t.Errorf("privateEnv(%q) = %v", kv, got)
		}
	}
}

func TestExitCode(t *testing.T) {
	for script, want := range map[string]int{"exit 3": 3, "kill -TERM $$": 128 + 15} {
		err := exec.Command("/bin/sh", "-c", script).Run()
		if got, ok := exitCode(err); !ok || got != want {
			t.Errorf("%s: exitCode = %d, %v; want %d", script, got, ok, want)
		}
	}
	if _, ok := exitCode(os.ErrNotExist); ok {
		t.Error("exitCode accepted a non-exit error")
	}
}

func TestValidate(t *testing.T) {
	bad := []Opt{{StateDir: "/run/x"}, {StateDir: "/run/x", TargetArgs: []string{"dockerd-lite"}}, {StateDir: "rel", TargetArgs: []string{"/bin/true"}}}
	for _, o := range bad {
		if o.validate() == nil {
			t.Errorf("validate(%+v) = nil", o)
		}
	}
	if err := (Opt{StateDir: "/run/x", TargetArgs: []string{"/bin/true"}}).validate(); err != nil {
		t.Error(err)
	}
}

func TestProbeOverlay(t *testing.T) {
	opt, err := ProbeOverlay(t.Context(), t.TempDir())
	if err != nil {
		t.Skipf("native overlay in a user namespace is not available here: %v", err)
	}
	t.Logf("overlay works in a user namespace (extra option %q)", opt)
}

// TestProbeOverlayInMappedRootDir: as host root in root mode, the data root
// belongs to the mapped root after the first run; the probe must still
// get in.
func TestProbeOverlayInMappedRootDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs host root to chown the probe dir")
	}
	if _, err := ProbeOverlay(t.Context(), t.TempDir()); err != nil {
		t.Skipf("native overlay in a user namespace is not available here: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 424242, 424242); err != nil {
		t.Fatal(err)
	}
	if _, err := ProbeOverlay(t.Context(), dir); err != nil {
		t.Fatalf("probe in a dir owned by another uid: %v", err)
	}
}
