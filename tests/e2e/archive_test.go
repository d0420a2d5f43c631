package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// cpFixture writes a host tree: f.txt, d/g.txt and ln -> f.txt.
func cpFixture(t *testing.T) string {
	t.Helper()
	dir := harness.TempDir(t)
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(src, "f.txt"), "hello\n")
	mustWrite(t, filepath.Join(src, "d", "g.txt"), "inner\n")
	if err := os.Symlink("f.txt", filepath.Join(src, "ln")); err != nil {
		t.Fatal(err)
	}
	chownTree(t, dir)
	return dir
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chownTree gives the tree to the daemon's user (the CLI runs as it).
func chownTree(t *testing.T, dir string) {
	t.Helper()
	id := harness.Identity()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id.UID, id.GID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestArchiveCpRunning(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "run", "-d", "--name", "cp-run", img, "sleep", "300")
	defer d.Docker(t, "rm", "-f", "cp-run")
	testCpBothWays(t, d, "cp-run")
	if out := d.DockerOK(t, "exec", "cp-run", "cat", "/tmp/in/f.txt"); out != "hello\n" {
		t.Fatalf("file copied into the running container reads %q", out)
	}
}

func TestArchiveCpStopped(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "create", "--name", "cp-stop", img, "cat", "/tmp/in/d/g.txt")
	defer d.Docker(t, "rm", "-f", "cp-stop")
	testCpBothWays(t, d, "cp-stop")
	if out := d.DockerOK(t, "start", "-a", "cp-stop"); out != "inner\n" {
		t.Fatalf("file copied into the stopped container reads %q after start", out)
	}
}

// testCpBothWays copies a file, a directory and a symlink in and out.
func testCpBothWays(t *testing.T, d *harness.Daemon, name string) {
	dir := cpFixture(t)
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "out")
	d.DockerOK(t, "cp", src, name+":/tmp/in")
	d.DockerOK(t, "cp", filepath.Join(src, "f.txt"), name+":/tmp/single.txt")
	d.DockerOK(t, "cp", name+":/tmp/in", out)
	if got := readFile(t, filepath.Join(out, "d", "g.txt")); got != "inner\n" {
		t.Fatalf("round-tripped d/g.txt = %q", got)
	}
	if target, err := os.Readlink(filepath.Join(out, "ln")); err != nil || target != "f.txt" {
		t.Fatalf("round-tripped symlink: %q, %v", target, err)
	}
	d.DockerOK(t, "cp", name+":/tmp/in/.", filepath.Join(dir, "dot"))
	if got := readFile(t, filepath.Join(dir, "dot", "d", "g.txt")); got != "inner\n" {
		t.Fatalf("cp of dir/. copied %q", got)
	}
	d.DockerOK(t, "cp", name+":/tmp/single.txt", filepath.Join(dir, "single.txt"))
	if got := readFile(t, filepath.Join(dir, "single.txt")); got != "hello\n" {
		t.Fatalf("copied file = %q", got)
	}
	d.DockerOK(t, "cp", name+":/tmp/in/ln", filepath.Join(dir, "ln-copy"))
	if target, err := os.Readlink(filepath.Join(dir, "ln-copy")); err != nil || target != "f.txt" {
		t.Fatalf("copied symlink: %q, %v", target, err)
	}
	d.DockerOK(t, "cp", "-L", name+":/tmp/in/ln", filepath.Join(dir, "ln-follow"))
	if got := readFile(t, filepath.Join(dir, "ln-follow")); got != "hello\n" {
		t.Fatalf("cp -L of a symlink = %q", got)
	}
	if r := d.Docker(t, "cp", name+":/nonexistent", dir); r.ExitCode == 0 || !strings.Contains(r.Stderr, "Could not find the file /nonexistent") {
		t.Fatalf("cp of a missing path:\n%s", r)
	}
}

func TestArchiveExportDiff(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "run", "--name", "exp", img, "sh", "-c", "echo x > /newfile && rm /etc/group && echo y >> /etc/passwd")
	defer d.Docker(t, "rm", "-f", "exp")
	diff := d.DockerOK(t, "diff", "exp")
	for _, want := range []string{"A /newfile", "D /etc/group", "C /etc/passwd", "C /etc"} {
		if !strings.Contains(diff, want+"\n") {
			t.Errorf("docker diff lacks %q:\n%s", want, diff)
		}
	}
	tarPath := filepath.Join(harness.TempDir(t), "exp.tar")
	d.DockerOK(t, "export", "-o", tarPath, "exp")
	list, err := exec.Command("tar", "tf", tarPath).CombinedOutput()
	if err != nil {
		t.Fatalf("tar t: %v\n%s", err, list)
	}
	names := "\n" + string(list)
	for _, want := range []string{"\nnewfile\n", "\nbin/\n", "\netc/passwd\n"} {
		if !strings.Contains(names, want) {
			t.Errorf("export lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(names, "\netc/group\n") {
		t.Error("export contains the deleted /etc/group")
	}
}

func TestArchiveCommit(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "run", "--name", "cmt", img, "sh", "-c", "echo committed > /data.txt")
	defer d.Docker(t, "rmi", "-f", "committed:v1")
	defer d.Docker(t, "rm", "-f", "cmt")
	id := strings.TrimSpace(d.DockerOK(t, "commit", "-m", "my message", "-a", "me",
		"--change", `CMD ["cat", "/data.txt"]`, "--change", "ENV FOO=bar", "cmt", "committed:v1"))
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("commit printed %q", id)
	}
	if out := d.DockerOK(t, "run", "--rm", "committed:v1"); out != "committed\n" {
		t.Fatalf("run of the committed image printed %q", out)
	}
	if out := d.DockerOK(t, "run", "--rm", "committed:v1", "sh", "-c", "echo $FOO"); out != "bar\n" {
		t.Fatalf("ENV change: %q", out)
	}
	hist := d.DockerOK(t, "history", "--no-trunc", "--format", "{{.Comment}}|{{.CreatedBy}}", "committed:v1")
	if first := strings.SplitN(hist, "\n", 2)[0]; !strings.HasPrefix(first, "my message|") {
		t.Fatalf("history top = %q", first)
	}
	var insp []struct {
		Parent, Author string
		RootFS         struct{ Layers []string }
	}
	if err := json.Unmarshal([]byte(d.DockerOK(t, "image", "inspect", "committed:v1")), &insp); err != nil || len(insp) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	base := strings.TrimSpace(d.DockerOK(t, "image", "inspect", "-f", "{{.ID}}", img))
	if insp[0].Parent != base || insp[0].Author != "me" {
		t.Fatalf("parent %q author %q, want %q and me", insp[0].Parent, insp[0].Author, base)
	}
	ids := strings.Fields(d.DockerOK(t, "history", "--no-trunc", "--format", "{{.ID}}", "committed:v1"))
	if len(ids) < 2 || ids[0] != id || ids[1] != base {
		t.Errorf("history IDs %q: want the image, then its parent %s on the row that ends it", ids, base)
	}
	// An empty body (as the CLI sends without --change) on a running container.
	d.DockerOK(t, "run", "-d", "--name", "cmt-run", img, "sleep", "300")
	defer d.Docker(t, "rm", "-f", "cmt-run")
	r := d.Curl(t, http.MethodPost, "/commit?container=cmt-run&repo=committed&tag=v2", nil)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("commit of a running container: %d %s", r.StatusCode, r.Body)
	}
	defer d.Docker(t, "rmi", "-f", "committed:v2")
}

// tarOf builds a tar with the given regular files.
func tarOf(t *testing.T, files map[string]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestArchiveEscape(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	host := harness.TempDir(t)
	mustWrite(t, filepath.Join(host, "secret"), "host secret\n")
	chownTree(t, host)
	d.DockerOK(t, "create", "--name", "esc", img, "true")
	defer d.Docker(t, "rm", "-f", "esc")
	links := tarOfLinks(t, map[string]string{"abs": host, "rel": "../../../../../../.." + host})
	if r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path=/", links); r.StatusCode != http.StatusOK {
		t.Fatalf("put symlinks: %d %s", r.StatusCode, r.Body)
	}
	// Dangling inside the container: 404, nothing written.
	for _, p := range []string{"/abs", "/rel/."} {
		r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path="+p, tarOf(t, map[string]string{"pwned": "x"}))
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("PUT %s: %d %s, want 404", p, r.StatusCode, r.Body)
		}
	}
	// With the same path inside the container the links resolve there.
	mkHost := tarOfDirs(t, strings.TrimPrefix(host, "/"))
	if r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path=/", mkHost); r.StatusCode != http.StatusOK {
		t.Fatalf("put dirs: %d %s", r.StatusCode, r.Body)
	}
	for _, p := range []string{"/abs", "/rel", "/abs/", "/rel/."} {
		r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path="+p, tarOf(t, map[string]string{"pwned": "x"}))
		if r.StatusCode != http.StatusOK {
			t.Errorf("PUT %s: %d %s", p, r.StatusCode, r.Body)
		}
	}
	if r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path=/", tarOf(t, map[string]string{"abs/pwned3": "x"})); r.StatusCode != http.StatusOK {
		t.Errorf("PUT abs/pwned3: %d %s", r.StatusCode, r.Body)
	}
	if r := d.Curl(t, http.MethodHead, "/containers/esc/archive?path=/abs/pwned3", nil); r.StatusCode != http.StatusOK {
		t.Errorf("file written through /abs is not in the container: %d", r.StatusCode)
	}
	r := d.Curl(t, http.MethodPut, "/containers/esc/archive?path=/tmp", tarOf(t, map[string]string{"../../../../../../../" + host + "/pwned2": "x"}))
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("tar entry with ../: %d %s, want 400", r.StatusCode, r.Body)
	}
	entries, err := os.ReadDir(host)
	if err != nil || len(entries) != 1 {
		t.Fatalf("host directory changed: %v %v", entries, err)
	}
	for _, p := range []string{"/abs/secret", "/rel/secret", "/../../../../../../.." + host + "/secret"} {
		r := d.Curl(t, http.MethodGet, "/containers/esc/archive?path="+p, nil)
		if r.StatusCode != http.StatusNotFound || bytes.Contains(r.Body, []byte("host secret")) {
			t.Errorf("GET %s: %d %q, want 404", p, r.StatusCode, r.Body)
		}
	}
	r = d.Curl(t, http.MethodHead, "/containers/esc/archive?path=/abs", nil)
	st := decodeStat(t, r.Header.Get("X-Docker-Container-Path-Stat"))
	if st.LinkTarget != host || st.Name != "abs" || st.Mode&os.ModeSymlink == 0 {
		t.Errorf("stat of /abs = %+v", st)
	}
}

func tarOfLinks(t *testing.T, links map[string]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, target := range links {
		if err := tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Typeflag: tar.TypeSymlink, Mode: 0o777}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

type pathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       os.FileMode `json:"mode"`
	LinkTarget string      `json:"linkTarget"`
}

func decodeStat(t *testing.T, h string) pathStat {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(h)
	var st pathStat
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		t.Fatalf("decode stat header %q: %v", h, err)
	}
	return st
}

func TestArchiveLegacyCopy(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "create", "--name", "legacy", img, "true")
	defer d.Docker(t, "rm", "-f", "legacy")
	body := strings.NewReader(`{"Resource":"/etc/passwd"}`)
	r := d.Curl(t, http.MethodPost, "/v1.23/containers/legacy/copy", body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("copy at 1.23: %d %s", r.StatusCode, r.Body)
	}
	hdr, err := tar.NewReader(bytes.NewReader(r.Body)).Next()
	if err != nil || hdr.Name != "passwd" {
		t.Fatalf("copy tar: %v %+v", err, hdr)
	}
	r = d.Curl(t, http.MethodPost, "/v1.24/containers/legacy/copy", strings.NewReader(`{"Resource":"/etc/passwd"}`))
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("copy at 1.24: %d, want 404", r.StatusCode)
	}
	r = d.Curl(t, http.MethodPost, "/v1.23/containers/legacy/copy", strings.NewReader(`{"Resource":"/nope"}`))
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("copy of a missing path: %d, want 404", r.StatusCode)
	}
}

func tarOfDirs(t *testing.T, dir string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	p := ""
	for _, el := range strings.Split(dir, "/") {
		p += el + "/"
		if err := tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// TestArchiveSymlinkSwap copies in and out while the running container
// keeps replacing a directory with a symlink to a host directory.
func TestArchiveSymlinkSwap(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	host := harness.TempDir(t)
	mustWrite(t, filepath.Join(host, "secret"), "host secret\n")
	chownTree(t, host)
	flip := "mkdir -p " + host + "; while :; do rm -rf /d; ln -s " + host + " /d; rm -f /d; mkdir /d; done"
	d.DockerOK(t, "run", "-d", "--name", "swap", img, "sh", "-c", flip)
	defer d.Docker(t, "rm", "-f", "swap")
	codes := map[int]int{}
	for i := 0; i < 200; i++ {
		r := d.Curl(t, http.MethodPut, "/containers/swap/archive?path=/d", tarOf(t, map[string]string{"pwned": "x"}))
		codes[r.StatusCode]++
		r = d.Curl(t, http.MethodPut, "/containers/swap/archive?path=/", tarOf(t, map[string]string{"d/pwned2": "x"}))
		codes[r.StatusCode]++
		if r.StatusCode >= 500 && codes[r.StatusCode] == 1 {
			t.Logf("first failure: %s", r.Body)
		}
		if r := d.Curl(t, http.MethodGet, "/containers/swap/archive?path=/d/", nil); bytes.Contains(r.Body, []byte("host secret")) {
			t.Fatal("archive of /d/ returned the host file")
		}
	}
	t.Logf("PUT statuses while swapping: %v", codes)
	if codes[http.StatusOK] == 0 {
		t.Fatalf("no copy succeeded while swapping (%v): the race was not exercised", codes)
	}
	entries, err := os.ReadDir(host)
	if err != nil || len(entries) != 1 {
		t.Fatalf("host directory changed: %v %v", entries, err)
	}
}

func TestArchiveSizes(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "run", "--name", "sz", img, "sh", "-c", "head -c 100000 /dev/zero > /big")
	defer d.Docker(t, "rm", "-f", "sz")
	out := strings.TrimSpace(d.DockerOK(t, "inspect", "--size", "-f", "{{.SizeRw}}", "sz"))
	if n, err := strconv.Atoi(out); err != nil || n < 100000 {
		t.Fatalf("SizeRw = %s, want >= 100000", out)
	}
	if out := d.DockerOK(t, "ps", "-a", "-s", "--filter", "name=sz", "--format", "{{.Size}}"); !strings.Contains(out, "kB") {
		t.Errorf("docker ps -s size column = %q", out)
	}
}

// TestArchiveCopyUIDGID checks docker cp -a: the container's user owns
// what was copied in.
func TestArchiveCopyUIDGID(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	mapped := 0
	for _, line := range strings.Split(d.DockerOK(t, "run", "--rm", img, "cat", "/proc/self/uid_map"), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			n, _ := strconv.Atoi(f[2])
			mapped += n
		}
	}
	if mapped <= 65534 {
		t.Skipf("the user namespace maps %d ids (no subordinate range): uid 65534 cannot own files", mapped)
	}
	dir := cpFixture(t)
	d.DockerOK(t, "create", "--name", "cp-a", "--user", "nobody", img, "true")
	defer d.Docker(t, "rm", "-f", "cp-a")
	d.DockerOK(t, "cp", "-a", filepath.Join(dir, "src", "f.txt"), "cp-a:/tmp/owned.txt")
	d.DockerOK(t, "cp", filepath.Join(dir, "src", "f.txt"), "cp-a:/tmp/kept.txt")
	owner := func(p string) int {
		r := d.Curl(t, http.MethodGet, "/containers/cp-a/archive?path="+p, nil)
		hdr, err := tar.NewReader(bytes.NewReader(r.Body)).Next()
		if err != nil {
			t.Fatalf("archive of %s: %d %v", p, r.StatusCode, err)
		}
		return hdr.Uid
	}
	if uid := owner("/tmp/owned.txt"); uid != 65534 {
		t.Errorf("cp -a: owner %d, want nobody (65534)", uid)
	}
	if uid := owner("/tmp/kept.txt"); uid == 65534 {
		t.Errorf("cp without -a gave the file to the container's user")
	}
}
