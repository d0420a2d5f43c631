package daemon

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

const envMountNSTest = "DOCKERD_LITE_TEST_IN_USERNS"

// inMountNS reports whether the calling test may run here: where this
// process can make mount namespaces (root, or the re-executed child).
// Otherwise it re-runs the test as uid 0 of a new user namespace and
// returns false (the child's result is the test's), or skips when user
// namespaces are refused.
func inMountNS(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envMountNSTest) != "" || canUnshareMountNS() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envMountNSTest+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		t.Skipf("mount namespaces need a user namespace, which the kernel refused: %v", err)
	case err != nil:
		t.Fatalf("test in a user namespace failed: %v\n%s", err, out)
	case bytes.Contains(out, []byte("--- SKIP")):
		t.Skipf("skipped in the user namespace:\n%s", out)
	}
	t.Logf("ran in a user namespace:\n%s", out)
	return false
}

// canUnshareMountNS tries unshare(CLONE_NEWNS) on a thread thrown away
// afterwards.
func canUnshareMountNS() bool {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is discarded
		ch <- unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS)
	}()
	return <-ch == nil
}

// viewFixture is a container root (with the escape symlinks of
// escapeFixture and link -> /real) and host directories to mount.
type viewFixture struct {
	root, host, vol, ro, nested, file string
}

func newViewFixture(t *testing.T) viewFixture {
	t.Helper()
	_, root, host := escapeFixture(t)
	base := filepath.Dir(root)
	f := viewFixture{root: root, host: host, vol: filepath.Join(base, "vol"), ro: filepath.Join(base, "ro"),
		nested: filepath.Join(base, "nested"), file: filepath.Join(base, "hosts")}
	// host exists inside the root too, so /abs resolves there.
	for _, d := range []string{f.vol + "/sub", f.ro, f.nested, root + "/real", root + "/etc", filepath.Join(root, host)} {
		mustMkdir(t, d)
	}
	mustWriteFile(t, f.vol+"/v.txt", "volume")
	mustWriteFile(t, f.ro+"/r.txt", "read-only")
	mustWriteFile(t, f.nested+"/n.txt", "nested")
	mustWriteFile(t, f.file, "hosts file")
	for link, target := range map[string]string{f.vol + "/lnk": "sub", root + "/link": "/real"} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWriteFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f viewFixture) open(t *testing.T) *rootFS {
	t.Helper()
	r, err := openView(f.root, []viewMount{
		{Destination: "/data/nested", Source: f.nested, RW: true}, // before its parent: sorted
		{Destination: "/data", Source: f.vol, RW: true},
		{Destination: "/ro", Source: f.ro},
		{Destination: "/etc/hosts", Source: f.file, RW: true},
		{Destination: "/link/m", Source: f.nested, RW: true},
		{Destination: "/abs/m", Source: f.nested, RW: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestViewMounts reads and writes through a view: volumes, nested and
// read-only mounts, a file bind and destinations behind symlinks, all
// seen from goroutines other than the one that made the namespace.
func TestViewMounts(t *testing.T) {
	if !inMountNS(t) {
		return
	}
	f := newViewFixture(t)
	r := f.open(t)
	defer r.Close()
	for p, want := range map[string]string{"/data/v.txt": "volume", "/data/nested/n.txt": "nested",
		"/ro/r.txt": "read-only", "/etc/hosts": "hosts file", "/real/m/n.txt": "nested", "/link/m/n.txt": "nested"} {
		if got := string(readArchive(r, p)); !strings.Contains(got, want) {
			t.Errorf("archive of %s lacks %q", p, want)
		}
	}
	if st, err := r.stat("/data/lnk"); err != nil || st.LinkTarget != "/data/sub" {
		t.Errorf("stat of a symlink in a volume = %+v, %v; want linkTarget /data/sub", st, err)
	}
	// The absolute symlink /abs -> host led the mount inside the root.
	if _, err := os.Stat(filepath.Join(f.root, f.host, "m")); err != nil {
		t.Errorf("mount point behind /abs is not inside the root: %v", err)
	}
	assertHostUntouched(t, f.host)
	if _, err := os.Stat(filepath.Join(f.root, "data", "v.txt")); err == nil {
		t.Error("a view mount is visible outside its namespace")
	}
	names := exportNames(t, r)
	for _, want := range []string{"data/v.txt", "data/nested/n.txt", "ro/r.txt", "etc/hosts"} {
		if !slices.Contains(names, want) {
			t.Errorf("export lacks %s: %v", want, names)
		}
	}
}

func TestViewExtract(t *testing.T) {
	if !inMountNS(t) {
		return
	}
	f := newViewFixture(t)
	r := f.open(t)
	defer r.Close()
	ctx := context.Background()
	if err := r.extract(ctx, "/data/lnk", tarStream(t, "new.txt"), extractOpt{}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(f.vol, "sub", "new.txt")); err != nil || string(data) != "new" {
		t.Fatalf("file extracted into the volume: %q, %v", data, err)
	}
	if err := r.checkWritable("/data/lnk", true); err != nil {
		t.Errorf("a volume of a read-only container: %v", err)
	}
	err := r.checkWritable("/ro", false)
	if !errdefs.IsInvalidParameter(err) || err.Error() != "mounted volume is marked read-only" {
		t.Errorf("read-only mount: %v", err)
	}
	if err := r.extract(ctx, "/ro", tarStream(t, "x"), extractOpt{}); !errors.Is(err, unix.EROFS) {
		t.Errorf("extract into a read-only mount: %v, want EROFS", err)
	}
	err = r.checkWritable("/etc", true)
	if !errdefs.IsInvalidParameter(err) || err.Error() != "container rootfs is marked read-only" {
		t.Errorf("read-only rootfs: %v", err)
	}
	if err := r.checkWritable("/etc", false); err != nil {
		t.Errorf("rootfs: %v", err)
	}
}

// TestViewThreadDiscarded checks that no thread stays in a view's mount
// namespace once it is built (the view's handle alone keeps it).
func TestViewThreadDiscarded(t *testing.T) {
	if !inMountNS(t) {
		return
	}
	f := newViewFixture(t)
	for range 20 {
		r := f.open(t)
		var st unix.Stat_t
		if err := unix.Fstat(int(r.ns.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		// The thread ends just after openView returns: wait for it.
		deadline := time.Now().Add(5 * time.Second)
		for task := threadInNS(t, st.Ino); task != ""; task = threadInNS(t, st.Ino) {
			if time.Now().After(deadline) {
				t.Fatalf("thread %s stayed in the view's namespace (pid %d)", task, os.Getpid())
			}
			time.Sleep(time.Millisecond)
		}
		r.Close()
	}
}

// TestViewDanglingDestination: a destination behind a symlink that
// dangles inside the root is refused; nothing is mounted on the host.
func threadInNS(t *testing.T, ino uint64) string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/ns/mnt")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("list threads: %v", err)
	}
	for _, task := range tasks {
		var ts unix.Stat_t
		if unix.Stat(task, &ts) == nil && ts.Ino == ino {
			return task
		}
	}
	return ""
}

func TestViewDanglingDestination(t *testing.T) {
	if !inMountNS(t) {
		return
	}
	_, root, host := escapeFixture(t)
	for _, dst := range []string{"/abs/m", "/rel/m"} {
		r, err := openView(root, []viewMount{{Destination: dst, Source: t.TempDir(), RW: true}})
		if err == nil {
			r.Close()
			t.Errorf("mount at %s through a dangling symlink succeeded", dst)
		}
	}
	assertHostUntouched(t, host)
}

func exportNames(t *testing.T, r *rootFS) []string {
	t.Helper()
	return tarNames(t, int(r.dir.Fd()), ".", "")
}

func TestSortMounts(t *testing.T) {
	in := []viewMount{{Destination: "/a/b/c"}, {Destination: "/a"}, {Destination: "/z/y"}, {Destination: "/a/b"}}
	var got []string
	for _, m := range sortMounts(in) {
		got = append(got, m.Destination)
	}
	if strings.Join(got, " ") != "/a /z/y /a/b /a/b/c" {
		t.Fatalf("sorted = %v", got)
	}
}

// TestViewDestinationSwapRace builds views while a mount destination's
// parent keeps being exchanged with a symlink to a host directory: the
// mount point is never created (and so nothing mounted) outside the root.
func TestViewDestinationSwapRace(t *testing.T) {
	if !inMountNS(t) {
		return
	}
	_, root, host := escapeFixture(t)
	dir, alt := filepath.Join(root, "d"), filepath.Join(root, "d.alt")
	mustMkdir(t, dir)
	if err := os.Symlink(host, alt); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	var stop atomic.Bool
	var swaps atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			if unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, alt, unix.RENAME_EXCHANGE) == nil {
				swaps.Add(1)
			}
		}
	}()
	for range 200 {
		if r, err := openView(root, []viewMount{{Destination: "/d/m", Source: src, RW: true}}); err == nil {
			r.Close()
		}
	}
	stop.Store(true)
	<-done
	if swaps.Load() < 10 {
		t.Fatalf("only %d swaps happened; the race was not exercised", swaps.Load())
	}
	assertHostUntouched(t, host)
}
