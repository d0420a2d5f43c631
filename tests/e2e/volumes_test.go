package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// volRun runs a busybox shell command with the given docker run flags and
// returns its output.
func volRun(t *testing.T, d *harness.Daemon, flags []string, script string) string {
	t.Helper()
	img := d.LoadBusybox(t)
	args := append(append([]string{"run", "--rm"}, flags...), img, "sh", "-c", script)
	return d.DockerOK(t, args...)
}

func volInspect(t *testing.T, d *harness.Daemon, name string) volume.Volume {
	t.Helper()
	var vs []volume.Volume
	if err := json.Unmarshal([]byte(d.DockerOK(t, "volume", "inspect", name)), &vs); err != nil || len(vs) != 1 {
		t.Fatalf("volume inspect %s: %v", name, err)
	}
	return vs[0]
}

func containerMounts(t *testing.T, d *harness.Daemon, id string) []container.MountPoint {
	t.Helper()
	var ms []container.MountPoint
	out := d.DockerOK(t, "inspect", "--format", "{{json .Mounts}}", id)
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("inspect mounts: %v (%s)", err, out)
	}
	return ms
}

// TestVolumesNamedShared: a named volume written by one container is read
// by the next; it is created on first use and listed afterwards.
func TestVolumesNamedShared(t *testing.T) {
	d := harness.Shared(t)
	const name = "e2e-vol-shared"
	defer d.Docker(t, "volume", "rm", "-f", name)
	volRun(t, d, []string{"-v", name + ":/data"}, "echo written > /data/f")
	if got := volRun(t, d, []string{"-v", name + ":/data:ro"}, "cat /data/f; touch /data/g 2>/dev/null || echo ro"); got != "written\nro\n" {
		t.Fatalf("second container read %q", got)
	}
	if !strings.Contains(d.DockerOK(t, "volume", "ls", "-q"), name) {
		t.Fatal("volume created on first use is not listed")
	}
}

// TestVolumesBindOwnedDir: a directory the test user owns is readable and
// writable as the container's root user.
func TestVolumesBindOwnedDir(t *testing.T) {
	d := harness.Shared(t)
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "in", []byte("from host\n"), 0o644)
	got := volRun(t, d, []string{"-v", dir + ":/host"}, "cat /host/in && echo from container > /host/out && id -u")
	if got != "from host\n0\n" {
		t.Fatalf("container printed %q", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil || string(b) != "from container\n" {
		t.Fatalf("host reads %q, %v", b, err)
	}
	if got := volRun(t, d, []string{"--mount", "type=bind,source=" + dir + ",target=/h,readonly"}, "cat /h/in; echo x > /h/y 2>/dev/null || echo ro"); got != "from host\nro\n" {
		t.Fatalf("--mount readonly bind: %q", got)
	}
	img := d.LoadBusybox(t)
	for _, flags := range [][]string{{"-v", dir + ":/p:rslave,Z"}, {"--mount", "type=bind,src=" + dir + ",dst=/p,bind-propagation=rshared"}} {
		id := strings.TrimSpace(d.DockerOK(t, append(append([]string{"run", "-d"}, flags...), img, "cat", "/p/in")...))
		if code := strings.TrimSpace(d.DockerOK(t, "wait", id)); code != "0" {
			t.Errorf("%v: exit %s: %s", flags, code, d.DockerOK(t, "logs", id))
		}
		ms := containerMounts(t, d, id)
		if len(ms) != 1 || ms[0].Type != "bind" || ms[0].Source != dir || !ms[0].RW || (ms[0].Propagation != "rslave" && ms[0].Propagation != "rshared") {
			t.Errorf("%v: Mounts %+v", flags, ms)
		}
		d.DockerOK(t, "rm", id)
	}
}

// TestVolumesMountAndTmpfs: --mount type=volume and tmpfs, --tmpfs.
func TestVolumesMountAndTmpfs(t *testing.T) {
	d := harness.Shared(t)
	const name = "e2e-vol-mount"
	defer d.Docker(t, "volume", "rm", "-f", name)
	volRun(t, d, []string{"--mount", "type=volume,source=" + name + ",target=/v,volume-label=k=v"}, "echo 1 > /v/x")
	if v := volInspect(t, d, name); v.Labels["k"] != "v" {
		t.Errorf("volume-label not applied: %v", v.Labels)
	}
	got := volRun(t, d, []string{"--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770", "--tmpfs", "/run2:size=2m"},
		"grep -E ' /t | /run2 ' /proc/mounts | cut -d' ' -f2,3 | sort; stat -c %a /t")
	if got != "/run2 tmpfs\n/t tmpfs\n1770\n" {
		t.Fatalf("tmpfs mounts: %q", got)
	}
}

// TestVolumesCLI: docker volume create/ls/inspect/rm/prune as with Docker,
// 409 while in use, ps --filter volume, inspect Mounts, rm -v.
func TestVolumesCLI(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	const name = "e2e-vol-cli"
	if out := d.DockerOK(t, "volume", "create", "--label", "team=a", name); out != name+"\n" {
		t.Fatalf("create printed %q", out)
	}
	v := volInspect(t, d, name)
	if v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "a" || !strings.HasSuffix(v.Mountpoint, "/volumes/"+name+"/_data") {
		t.Fatalf("inspect: %+v", v)
	}
	if out := d.DockerOK(t, "volume", "ls", "-q", "--filter", "label=team=a"); out != name+"\n" {
		t.Fatalf("ls label filter: %q", out)
	}
	id := strings.TrimSpace(d.DockerOK(t, "create", "-v", name+":/data", "-v", "/anon", img, "true"))
	ms := containerMounts(t, d, id)
	if len(ms) != 2 {
		t.Fatalf("Mounts: %+v", ms)
	}
	if out := d.DockerOK(t, "ps", "-aq", "--no-trunc", "--filter", "volume="+name); out != id+"\n" {
		t.Errorf("ps --filter volume: %q", out)
	}
	r := d.Docker(t, "volume", "rm", name)
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "remove "+name+": volume is in use - ["+id+"]") {
		t.Fatalf("rm in use:\n%s", r)
	}
	if out := d.DockerOK(t, "volume", "ls", "-q", "--filter", "dangling=false"); !strings.Contains(out, name) {
		t.Errorf("dangling=false misses the used volume: %q", out)
	}
	var anon string
	for _, m := range ms {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if len(anon) != 64 {
		t.Fatalf("anonymous volume name %q", anon)
	}
	d.DockerOK(t, "rm", "-v", id)
	if r := d.Docker(t, "volume", "inspect", anon); r.ExitCode == 0 {
		t.Errorf("rm -v left the anonymous volume %s", anon)
	}
	d.DockerOK(t, "volume", "rm", name)
	if r := d.Docker(t, "volume", "inspect", name); r.ExitCode == 0 || !strings.Contains(r.Stderr, "no such volume") {
		t.Errorf("inspect after rm:\n%s", r)
	}
	before := d.DockerOK(t, "volume", "ls", "-q")
	d.DockerOK(t, "run", "--rm", "-v", "/anon", img, "true")
	if after := d.DockerOK(t, "volume", "ls", "-q"); after != before {
		t.Errorf("run --rm left an anonymous volume:\nbefore %q\nafter  %q", before, after)
	}
}

// TestVolumesPrune: prune removes unused anonymous volumes only, unless
// --all; used ones stay.
func TestVolumesPrune(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "volume", "create", "e2e-vol-prune-named")
	anon := strings.TrimSpace(d.DockerOK(t, "volume", "create"))
	id := strings.TrimSpace(d.DockerOK(t, "create", "-v", "/used", img, "true"))
	defer d.Docker(t, "rm", "-v", id)
	out := d.DockerOK(t, "volume", "prune", "-f")
	if !strings.Contains(out, anon) || strings.Contains(out, "e2e-vol-prune-named") {
		t.Fatalf("prune printed %q", out)
	}
	if len(containerMounts(t, d, id)) != 1 || d.Docker(t, "volume", "inspect", containerMounts(t, d, id)[0].Name).ExitCode != 0 {
		t.Fatal("prune removed a volume in use")
	}
	out = d.DockerOK(t, "volume", "prune", "-af")
	if !strings.Contains(out, "e2e-vol-prune-named") {
		t.Fatalf("prune --all printed %q", out)
	}
}

// TestVolumesImageFill: the image's VOLUME becomes an anonymous volume
// filled with the image's content there; an empty named volume mounted
// over image content is filled on first use, a non-empty one is not.
func TestVolumesImageFill(t *testing.T) {
	d := harness.Shared(t)
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "rootfs.tar", harness.RootfsTar(t, map[string]string{"data/seed": "from image\n"}), 0o644)
	const ref = "dltest/e2e-volume-image:1"
	d.DockerOK(t, "import", "--change", "VOLUME /data", filepath.Join(dir, "rootfs.tar"), ref)
	id := strings.TrimSpace(d.DockerOK(t, "create", ref, "/none"))
	ms := containerMounts(t, d, id)
	if len(ms) != 1 || ms[0].Destination != "/data" || ms[0].Type != "volume" || len(ms[0].Name) != 64 {
		t.Fatalf("image VOLUME mounts: %+v", ms)
	}
	if got := volRun(t, d, []string{"-v", ms[0].Name + ":/v"}, "cat /v/seed"); got != "from image\n" {
		t.Fatalf("anonymous volume holds %q", got)
	}
	const named = "e2e-vol-fill"
	defer d.Docker(t, "volume", "rm", "-f", named)
	id2 := strings.TrimSpace(d.DockerOK(t, "create", "-v", named+":/data", ref, "/none"))
	if got := volRun(t, d, []string{"-v", named + ":/v"}, "cat /v/seed; echo mine > /v/seed"); got != "from image\n" {
		t.Fatalf("named volume holds %q", got)
	}
	d.DockerOK(t, "rm", "-v", id, id2)
	d.DockerOK(t, "create", "--name", "e2e-vol-fill2", "-v", named+":/data", ref, "/none")
	defer d.Docker(t, "rm", "e2e-vol-fill2")
	if got := volRun(t, d, []string{"-v", named + ":/v"}, "cat /v/seed"); got != "mine\n" {
		t.Fatalf("non-empty volume was refilled: %q", got)
	}
}

// TestVolumesLocalDriverOptions: local volumes of type tmpfs and of type
// none with o=bind are mounted when a container uses them.
func TestVolumesLocalDriverOptions(t *testing.T) {
	d := harness.Shared(t)
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "f", []byte("bound\n"), 0o644)
	d.DockerOK(t, "volume", "create", "--driver", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", "e2e-vol-tmpfs")
	defer d.Docker(t, "volume", "rm", "-f", "e2e-vol-tmpfs")
	d.DockerOK(t, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device="+dir, "e2e-vol-bind")
	defer d.Docker(t, "volume", "rm", "-f", "e2e-vol-bind")
	got := volRun(t, d, []string{"-v", "e2e-vol-tmpfs:/t", "-v", "e2e-vol-bind:/b"},
		"grep ' /t ' /proc/mounts | cut -d' ' -f3; cat /b/f; echo back > /b/g")
	if got != "tmpfs\nbound\n" {
		t.Fatalf("container printed %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "g")); err != nil || string(b) != "back\n" {
		t.Fatalf("bind volume write: %q %v", b, err)
	}
	if v := volInspect(t, d, "e2e-vol-tmpfs"); v.Options["type"] != "tmpfs" || v.Options["o"] != "size=1m" {
		t.Errorf("options %v", v.Options)
	}
}

// TestVolumesFromAndEvents: --volumes-from shares another container's
// volumes (read-only with :ro); create, mount, unmount and destroy events.
func TestVolumesFromAndEvents(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	since := unixArg(time.Now())
	const name = "e2e-vol-from"
	src := strings.TrimSpace(d.DockerOK(t, "create", "-v", name+":/data", img, "true"))
	volRun(t, d, []string{"-v", name + ":/data"}, "echo shared > /data/f")
	got := volRun(t, d, []string{"--volumes-from", src + ":ro"}, "cat /data/f; touch /data/x 2>/dev/null || echo ro")
	if got != "shared\nro\n" {
		t.Fatalf("--volumes-from: %q", got)
	}
	if out := d.DockerOK(t, "system", "df", "-v", "--format", "{{range .Volumes}}{{.Name}} {{.Links}}\n{{end}}"); !strings.Contains(out, name+" 1\n") {
		t.Errorf("system df volumes: %q", out)
	}
	d.DockerOK(t, "rm", src)
	d.DockerOK(t, "volume", "rm", name)
	out := d.DockerOK(t, "events", "--since", since, "--until", unixArg(time.Now()), "--filter", "type=volume",
		"--filter", "volume="+name, "--format", "{{.Action}}")
	if want := "create\nmount\nunmount\nmount\nunmount\ndestroy\n"; out != want {
		t.Errorf("volume events:\n%s\nwant\n%s", out, want)
	}
}

// TestVolumesFillOwnership: filling a volume keeps the image's owners and
// modes, for the files and for the volume's root.
func TestVolumesFillOwnership(t *testing.T) {
	d := harness.Shared(t)
	if m := volRun(t, d, nil, "wc -l < /proc/self/uid_map; awk '{print $3}' /proc/self/uid_map"); strings.HasPrefix(m, "1\n1\n") {
		t.Skip("the daemon runs with a single-id mapping: image owners collapse to root")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "srv/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1001},
		{Name: "srv/owned", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 1000, Gid: 1001, Size: 2},
		{Name: "srv/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd", Uid: 1000, Gid: 1001},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			_, _ = tw.Write([]byte("ok"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "rootfs.tar", buf.Bytes(), 0o644)
	const ref, name = "dltest/e2e-volume-owner:1", "e2e-vol-owner"
	d.DockerOK(t, "import", filepath.Join(dir, "rootfs.tar"), ref)
	id := strings.TrimSpace(d.DockerOK(t, "create", "-v", name+":/srv", ref, "/none"))
	defer d.Docker(t, "volume", "rm", "-f", name)
	defer d.Docker(t, "rm", id)
	got := volRun(t, d, []string{"-v", name + ":/v"}, "stat -c '%u:%g %a %n' /v /v/owned; readlink /v/link; stat -c '%u:%g' /v/link")
	want := "1000:1001 750 /v\n1000:1001 600 /v/owned\n/etc/passwd\n1000:1001\n"
	if got != want {
		t.Fatalf("volume content:\n%s\nwant\n%s", got, want)
	}
}

// TestVolumesSurviveRestart: volumes and their references come back with
// the daemon: a volume used by a container is still in use after a restart.
func TestVolumesSurviveRestart(t *testing.T) {
	root := harness.TempDir(t)
	d1 := harness.NewDaemon(t, harness.Options{DataRoot: root})
	d1.Start(t)
	img := d1.LoadBusybox(t)
	d1.DockerOK(t, "volume", "create", "--label", "keep=1", "e2e-vol-restart")
	id := strings.TrimSpace(d1.DockerOK(t, "create", "-v", "e2e-vol-restart:/data", img, "true"))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := d1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	d2 := harness.NewDaemon(t, harness.Options{DataRoot: root})
	d2.Start(t)
	if v := volInspect(t, d2, "e2e-vol-restart"); v.Labels["keep"] != "1" {
		t.Fatalf("after restart: %+v", v)
	}
	r := d2.Docker(t, "volume", "rm", "e2e-vol-restart")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "volume is in use - ["+id+"]") {
		t.Fatalf("rm after restart:\n%s", r)
	}
	d2.DockerOK(t, "rm", id)
	d2.DockerOK(t, "volume", "rm", "e2e-vol-restart")
}
