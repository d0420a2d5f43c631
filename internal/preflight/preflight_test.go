package preflight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

func TestMain(m *testing.M) {
	netns.Dispatch() // the overlay probe re-executes this binary
	os.Exit(m.Run())
}

func TestPrint(t *testing.T) {
	var b bytes.Buffer
	Print(&b, []Finding{
		{Name: "user namespaces", Status: OK, Detail: "available"},
		{Name: "/dev/net/tun", Status: Warn, Detail: "not writable", Fix: "chmod 0666 /dev/net/tun"},
		{Name: "x", Status: Fail, Detail: "broken", Fix: "repair"},
	})
	want := "" +
		"OK    user namespaces  available\n" +
		"WARN  /dev/net/tun     not writable\n" +
		"      fix: chmod 0666 /dev/net/tun\n" +
		"FAIL  x                broken\n" +
		"      fix: repair\n"
	if b.String() != want {
		t.Errorf("Print:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStatus(t *testing.T) {
	if OK.String() != "OK" || Warn.String() != "WARN" || Fail.String() != "FAIL" {
		t.Error("Status.String")
	}
	if Worst(nil) != OK || Worst([]Finding{{Status: Warn}, {Status: OK}}) != Warn || Worst([]Finding{{Status: Fail}, {Status: Warn}}) != Fail {
		t.Error("Worst")
	}
	f := Finding{Name: "n", Status: Warn, Detail: "d", Fix: "f"}
	if f.String() != "WARN n: d (fix: f)" {
		t.Errorf("Finding.String = %q", f.String())
	}
}

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckSubIDs(t *testing.T) {
	alice := identity{uid: 1000, gid: 1000, name: "alice"}
	root := identity{name: "root", root: true}
	tests := []struct {
		name    string
		id      identity
		file    string
		want    Status
		wantFix string
	}{
		{"full", alice, "alice:100000:65536\n", OK, ""},
		{"by uid", alice, "1000:100000:65536\n", OK, ""},
		{"small", alice, "alice:100000:1000\n", Warn, "grow"},
		{"none", alice, "bob:100000:65536\n", Warn, `"alice:165536:65536"`},
		{"broken", alice, "alice:x\n", Warn, "syntax"},
		{"root without range", root, "alice:100000:65536\n", Fail, `"root:165536:65536"`},
		{"root with range", root, "root:300000:65536\n", OK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.file)
			f := env{id: tc.id, subUID: p, subGID: p}.checkSubIDs()
			if f.Status != tc.want || !strings.Contains(f.Fix, tc.wantFix) {
				t.Errorf("got %v", f)
			}
		})
	}
}

func TestCheckTun(t *testing.T) {
	alice := identity{uid: os.Getuid(), gid: os.Getgid(), name: "alice"}
	other := identity{uid: 123456, gid: 123456, name: "other"}
	tests := []struct {
		name string
		id   identity
		mode os.FileMode
		want Status
	}{
		{"0666", other, 0o666, OK},
		{"0600 not owner", other, 0o600, Warn},
		{"0600 owner", alice, 0o600, OK},
		{"root mode ignores root's access", identity{root: true, name: "root"}, 0o600, Warn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, "")
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			f := env{id: tc.id, tun: p}.checkTun()
			if f.Status != tc.want {
				t.Errorf("got %v", f)
			}
			if f.Status == Warn && !strings.Contains(f.Fix, "chmod 0666") {
				t.Errorf("fix %q", f.Fix)
			}
		})
	}
	f := env{id: alice, tun: filepath.Join(t.TempDir(), "missing")}.checkTun()
	if f.Status != Warn || f.Fix != "modprobe tun" {
		t.Errorf("missing device: %v", f)
	}
}

func TestCheckUserNS(t *testing.T) {
	sys := t.TempDir()
	os.MkdirAll(filepath.Join(sys, "user"), 0o755)
	os.WriteFile(filepath.Join(sys, "user", "max_user_namespaces"), []byte("0\n"), 0o644)
	h := env{id: identity{name: "alice"}, sysctl: sys}
	refused := probeResult{err: fmt.Errorf("%w: operation not permitted", netns.ErrUserNamespace)}
	f := h.checkUserNS(refused)
	if f.Status != Fail || !strings.Contains(f.Fix, "sysctl -w user.max_user_namespaces=15000") {
		t.Errorf("refused: %v", f)
	}
	if f := h.checkUserNS(probeResult{err: errors.New("mount overlay: invalid argument")}); f.Status != OK {
		t.Errorf("overlay failure is not a user namespace failure: %v", f)
	}
	single := netns.Mapping{UIDs: []netns.IDRange{{ContainerID: 0, HostID: 1000, Size: 1}}, GIDs: []netns.IDRange{{ContainerID: 0, HostID: 1000, Size: 1}}, InUserNS: true}
	h.id.mapping, h.subUID, h.subGID = single, write(t, ""), write(t, "")
	if f := h.checkUserNS(probeResult{}); f.Status != Warn || !strings.Contains(f.Fix, `"alice:100000:65536"`) {
		t.Errorf("single-id namespace: %v", f)
	}
}

func TestCheckOverlay(t *testing.T) {
	if f := checkOverlay(probeResult{option: "userxattr"}); f.Status != OK || !strings.Contains(f.Detail, "userxattr") {
		t.Errorf("ok: %v", f)
	}
	f := checkOverlay(probeResult{err: errors.New("mount overlay: operation not permitted")})
	if f.Status != Warn || !(strings.Contains(f.Detail, "fuse-overlayfs will be used") || strings.Contains(f.Detail, "vfs will be used")) {
		t.Errorf("failed probe: %v", f)
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	fs := Check(ctx, Opt{ProbeDir: t.TempDir()})
	took := time.Since(start)
	var b bytes.Buffer
	Print(&b, fs)
	t.Logf("preflight took %v:\n%s", took, b.String())
	names := map[string]bool{}
	for _, f := range fs {
		names[f.Name] = true
		if f.Status != OK && f.Fix == "" && f.Name != "cgroups" {
			t.Errorf("%v has no fix", f)
		}
	}
	for _, n := range []string{"user namespaces", "subordinate ids", "newuidmap/newgidmap", "slirp4netns", "/dev/net/tun", "overlay", "cgroups"} {
		if !names[n] {
			t.Errorf("missing check %q", n)
		}
	}
	if id := currentIdentity(); names["root mode"] != id.root {
		t.Errorf("root mode finding present=%v for host uid %d", names["root mode"], id.uid)
	}
}
