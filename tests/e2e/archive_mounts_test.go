package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// mountsFixture is a container with a named volume at /vol, a bind mount
// of a host directory at /bind and again nested in the volume at /vol/sub,
// and a read-only volume at /rovol, each holding a file written before the
// copy.
type mountsFixture struct {
	name, vol, rovol, bind string
}

func newMountsFixture(t *testing.T, d *harness.Daemon, name string, create ...string) mountsFixture {
	t.Helper()
	img := d.LoadBusybox(t)
	f := mountsFixture{name: name, vol: name + "-vol", rovol: name + "-rovol", bind: harness.TempDir(t)}
	harness.WriteFile(t, f.bind, "host.txt", []byte("from host\n"), 0o644)
	d.DockerOK(t, "run", "--rm", "-v", f.vol+":/v", "-v", f.rovol+":/r", img, "sh", "-c",
		"echo in volume > /v/pre.txt && echo in ro volume > /r/pre.txt")
	args := append([]string{create[0], "-v", f.vol + ":/vol", "-v", f.bind + ":/bind", "-v", f.bind + ":/vol/sub", "-v", f.rovol + ":/rovol:ro", "--name", name}, create[1:]...)
	d.DockerOK(t, args...)
	return f
}

// remove removes the container and its volumes (deferred: t.Cleanup runs
// after the test's context, which the CLI runs under, is cancelled).
func (f mountsFixture) remove(t *testing.T, d *harness.Daemon) {
	d.Docker(t, "rm", "-f", f.name)
	d.Docker(t, "volume", "rm", "-f", f.vol, f.rovol)
}

// check copies out of and into each mount of the fixture's container.
func (f mountsFixture) check(t *testing.T, d *harness.Daemon) {
	t.Helper()
	out := harness.TempDir(t)
	for src, want := range map[string]string{"/vol/pre.txt": "in volume\n", "/bind/host.txt": "from host\n", "/vol/sub/host.txt": "from host\n", "/rovol/pre.txt": "in ro volume\n"} {
		dst := filepath.Join(out, filepath.Base(filepath.Dir(src))+".txt")
		d.DockerOK(t, "cp", f.name+":"+src, dst)
		if got := readFile(t, dst); got != want {
			t.Errorf("cp %s = %q, want %q", src, got, want)
		}
	}
	in := filepath.Join(cpFixture(t), "src", "f.txt")
	d.DockerOK(t, "cp", in, f.name+":/vol/in.txt")
	d.DockerOK(t, "cp", in, f.name+":/bind/in.txt")
	d.DockerOK(t, "cp", in, f.name+":/vol/sub/nested.txt")
	img := d.LoadBusybox(t)
	if got := d.DockerOK(t, "run", "--rm", "-v", f.vol+":/v", img, "cat", "/v/in.txt"); got != "hello\n" {
		t.Errorf("file copied into /vol reads %q from the volume", got)
	}
	for _, name := range []string{"in.txt", "nested.txt"} {
		if got := readFile(t, filepath.Join(f.bind, name)); got != "hello\n" {
			t.Errorf("file %s copied into the bind reads %q on the host", name, got)
		}
	}
	r := d.Docker(t, "cp", in, f.name+":/rovol/in.txt")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "mounted volume is marked read-only") {
		t.Errorf("cp into a read-only volume:\n%s", r)
	}
}

func TestArchiveMountsRunning(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	f := newMountsFixture(t, d, "cpm-run", "run", "-d", img, "sleep", "300")
	defer f.remove(t, d)
	f.check(t, d)
	if got := d.DockerOK(t, "exec", f.name, "cat", "/vol/in.txt", "/bind/in.txt"); got != "hello\nhello\n" {
		t.Fatalf("the running container reads %q", got)
	}
}

func TestArchiveMountsStopped(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	f := newMountsFixture(t, d, "cpm-stop", "run", img, "true")
	defer f.remove(t, d)
	f.check(t, d)
}

func TestArchiveMountsCreated(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	f := newMountsFixture(t, d, "cpm-created", "create", img, "cat", "/vol/in.txt", "/bind/in.txt")
	defer f.remove(t, d)
	f.check(t, d)
	if got := d.DockerOK(t, "start", "-a", f.name); got != "hello\nhello\n" {
		t.Fatalf("the container started after the copies reads %q", got)
	}
	// Nothing was written into the container's own layer below the mounts.
	if diff := d.DockerOK(t, "diff", f.name); strings.Contains(diff, "in.txt") {
		t.Fatalf("docker diff shows copied files in the container layer:\n%s", diff)
	}
}

// TestArchiveMountsExport: docker export includes the files of the
// container's volumes and binds.
func TestArchiveMountsExport(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	f := newMountsFixture(t, d, "cpm-exp", "create", img, "true")
	defer f.remove(t, d)
	tarPath := filepath.Join(harness.TempDir(t), "exp.tar")
	d.DockerOK(t, "export", "-o", tarPath, f.name)
	list, err := exec.Command("tar", "tf", tarPath).CombinedOutput()
	if err != nil {
		t.Fatalf("tar t: %v\n%s", err, list)
	}
	names := "\n" + string(list)
	for _, want := range []string{"vol/pre.txt", "bind/host.txt", "vol/sub/host.txt", "rovol/pre.txt", "bin/"} {
		if !strings.Contains(names, "\n"+want+"\n") {
			t.Errorf("export lacks %s", want)
		}
	}
}

// TestArchiveMountsReadonlyRootfs: with --read-only, copies into a volume
// still work and copies into the container's own file system are refused.
func TestArchiveMountsReadonlyRootfs(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	f := newMountsFixture(t, d, "cpm-ro", "create", "--read-only", img, "true")
	defer f.remove(t, d)
	in := filepath.Join(cpFixture(t), "src", "f.txt")
	d.DockerOK(t, "cp", in, f.name+":/vol/ro-rootfs.txt")
	r := d.Docker(t, "cp", in, f.name+":/tmp/")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "container rootfs is marked read-only") {
		t.Fatalf("cp into a read-only rootfs:\n%s", r)
	}
}
