package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// dockerBuild runs `docker build` in dir with DOCKER_BUILDKIT=0, so the CLI
// takes the classic path (POST /build) whatever plugins are installed.
func dockerBuild(t *testing.T, d *harness.Daemon, dir string, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	args = append(append([]string{"build"}, args...), ".")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(d.DockerEnv(), "DOCKER_BUILDKIT=0")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: harness.Identity().Credential()}
	err := cmd.Run()
	res := harness.Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("docker build timed out:\n%s", res)
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run docker build: %v", err)
	}
	return res
}

// buildContext writes files (name -> content, no subdirectories) into a
// new directory the daemon's user owns.
func buildContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := harness.TempDir(t)
	for name, content := range files {
		harness.WriteFile(t, dir, name, []byte(content), 0o644)
	}
	return dir
}

// buildTar is a tar with the given files (tarOf, as a string).
func buildTar(t *testing.T, files map[string]string) string {
	t.Helper()
	b, _ := io.ReadAll(tarOf(t, files))
	return string(b)
}

func mustBuild(t *testing.T, d *harness.Daemon, dir string, args ...string) string {
	t.Helper()
	res := dockerBuild(t, d, dir, args...)
	if res.ExitCode != 0 {
		t.Fatalf("build failed:\n%s", res)
	}
	return res.Stdout
}

// TestBuildClassic builds with RUN, COPY, ADD of a tar, ARG/--build-arg,
// ENV, WORKDIR, USER and CMD, then runs the image.
func TestBuildClassic(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM " + base + "\n" +
			"ARG GREETING=hello\n" +
			"ENV WHO=world\n" +
			"WORKDIR /app\n" +
			"COPY hello.txt ./\n" +
			"ADD files.tar /opt/\n" +
			"RUN echo \"$GREETING $WHO\" > greeting && \\\n  echo ran-in-$(pwd)\n" +
			"USER 1000:1000\n" +
			"LABEL stage=final\n" +
			"CMD [\"sh\", \"-c\", \"cat greeting hello.txt /opt/inner.txt; id -u; pwd\"]\n",
		"hello.txt": "from the context\n",
		"files.tar": buildTar(t, map[string]string{"inner.txt": "from the tar\n"}),
	})
	out := mustBuild(t, d, dir, "--build-arg", "GREETING=hi", "-t", "build-classic")
	for _, want := range []string{"Step 1/10 : FROM " + base, "ran-in-/app", "Successfully built ", "Successfully tagged build-classic:latest"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	got := d.DockerOK(t, "run", "--rm", "build-classic")
	want := "hi world\nfrom the context\nfrom the tar\n1000\n/app\n"
	if got != want {
		t.Errorf("docker run printed %q, want %q", got, want)
	}
	label := d.DockerOK(t, "image", "inspect", "--format", "{{.Config.Labels.stage}} {{.Config.WorkingDir}} {{.Config.User}} {{len .RootFS.Layers}}", "build-classic")
	// layers: the base's one, WORKDIR (creates /app), COPY, ADD, RUN; the
	// config-only steps are empty layers.
	if strings.TrimSpace(label) != "final /app 1000:1000 5" {
		t.Errorf("image config and layer count = %q", label)
	}
	again := mustBuild(t, d, dir, "--build-arg", "GREETING=hi", "-t", "build-classic")
	if !strings.Contains(again, "Using cache") || strings.Contains(again, "ran-in-/app") {
		t.Errorf("second build did not use the cache:\n%s", again)
	}
	d.DockerOK(t, "rmi", "build-classic")
}

// TestBuildFailure checks a failing RUN: Docker's message, a non-zero
// exit, no tag and no container left.
func TestBuildFailure(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	before := d.DockerOK(t, "ps", "-aq")
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + "\nRUN echo before\nRUN false\n"})
	res := dockerBuild(t, d, dir, "-t", "build-fails")
	if res.ExitCode == 0 {
		t.Fatalf("build of RUN false succeeded:\n%s", res)
	}
	if msg := "The command '/bin/sh -c false' returned a non-zero code: 1"; !strings.Contains(res.Stdout+res.Stderr, msg) {
		t.Errorf("output lacks %q:\n%s", msg, res)
	}
	if r := d.Docker(t, "image", "inspect", "build-fails"); r.ExitCode == 0 {
		t.Errorf("failed build left a tagged image")
	}
	if after := d.DockerOK(t, "ps", "-aq"); after != before {
		t.Errorf("containers before the build:\n%s\nafter:\n%s", before, after)
	}
}

// TestBuildMultiStage copies from an earlier stage, with ENTRYPOINT + CMD.
func TestBuildMultiStage(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + " AS build\n" +
		"RUN mkdir -p /out/sub && echo built > /out/sub/artifact\n" +
		"FROM " + base + "\n" +
		"COPY --from=build /out /copied\n" +
		"ENTRYPOINT [\"cat\"]\n" +
		"CMD [\"/copied/sub/artifact\"]\n"})
	mustBuild(t, d, dir, "-t", "build-multistage")
	if got := d.DockerOK(t, "run", "--rm", "build-multistage"); got != "built\n" {
		t.Errorf("docker run printed %q, want %q", got, "built\n")
	}
	d.DockerOK(t, "rmi", "build-multistage")
}

// TestBuildDockerignoreAPI posts a raw context tar (the CLI filters
// .dockerignore itself, so this checks the daemon does too).
func TestBuildDockerignoreAPI(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	ctxTar := buildTar(t, map[string]string{
		"Dockerfile":    "FROM " + base + "\nCOPY . /ctx/\nCMD [\"ls\", \"/ctx\"]\n",
		".dockerignore": "secret*\n*.log\n!keep.log\n",
		"secret.txt":    "no\n",
		"a.log":         "no\n",
		"keep.log":      "yes\n",
		"data.txt":      "yes\n",
	})
	resp := d.Curl(t, "POST", "/v1.47/build?t=build-ignore", strings.NewReader(ctxTar))
	if resp.StatusCode != 200 || !strings.Contains(string(resp.Body), `"aux":{"ID":"sha256:`) {
		t.Fatalf("POST /build: %d %s", resp.StatusCode, resp.Body)
	}
	got := d.DockerOK(t, "run", "--rm", "build-ignore")
	if got != "Dockerfile\ndata.txt\nkeep.log\n" {
		t.Errorf("context in the image: %q", got)
	}
	d.DockerOK(t, "rmi", "build-ignore")
}

// TestBuildScratchQuiet builds FROM scratch with a binary copied from an
// image, runs it during the build, and checks `docker build -q` prints
// only the image ID.
func TestBuildScratchQuiet(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM scratch\n" +
		"COPY --from=" + base + " /bin/busybox /bin/busybox\n" +
		"RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo from-scratch > /f\"]\n" +
		"CMD [\"/bin/busybox\", \"cat\", \"/f\"]\n"})
	out := strings.TrimSpace(mustBuild(t, d, dir, "-q", "-t", "build-scratch"))
	id := strings.TrimSpace(d.DockerOK(t, "image", "inspect", "--format", "{{.Id}}", "build-scratch"))
	if out != id {
		t.Errorf("docker build -q printed %q, want the image ID %s", out, id)
	}
	if got := d.DockerOK(t, "run", "--rm", "build-scratch"); got != "from-scratch\n" {
		t.Errorf("docker run printed %q", got)
	}
	hist := d.DockerOK(t, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "build-scratch")
	if !strings.Contains(hist, "#(nop) COPY file:") || !strings.Contains(hist, "/bin/busybox sh -c echo from-scratch > /f") {
		t.Errorf("history:\n%s", hist)
	}
	d.DockerOK(t, "rmi", "build-scratch")
}

// TestBuildNetworkNoneCopyIntoDir runs RUN with --network none and copies
// a file into an existing directory named without a trailing slash.
func TestBuildNetworkNoneCopyIntoDir(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM " + base + "\nCOPY tool.sh /bin\nRUN sh /bin/tool.sh && echo nets: $(ls /sys/class/net)\n",
		"tool.sh":    "echo tool-ran\n",
	})
	out := mustBuild(t, d, dir, "--network", "none", "-t", "build-netnone")
	if !strings.Contains(out, "tool-ran\n") || !strings.Contains(out, "nets: lo\n") {
		t.Errorf("build output:\n%s", out)
	}
	if got := d.DockerOK(t, "run", "--rm", "build-netnone", "ls", "/bin/busybox"); got != "/bin/busybox\n" {
		t.Errorf("/bin was replaced: %q", got)
	}
	d.DockerOK(t, "rmi", "build-netnone")
}

// TestBuildChown resolves COPY --chown names in the image's /etc/passwd.
func TestBuildChown(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	mapped := 0
	for _, line := range strings.Split(d.DockerOK(t, "run", "--rm", base, "cat", "/proc/self/uid_map"), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			n, _ := strconv.Atoi(f[2])
			mapped += n
		}
	}
	if mapped <= 65534 {
		t.Skipf("the user namespace maps %d ids (no subordinate range): uid 65534 cannot own files", mapped)
	}
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM " + base + "\nCOPY --chown=nobody:nogroup f.txt /owned.txt\nCOPY f.txt /root.txt\n" +
			"CMD [\"stat\", \"-c\", \"%n %u:%g\", \"/owned.txt\", \"/root.txt\"]\n",
		"f.txt": "x\n",
	})
	mustBuild(t, d, dir, "-t", "build-chown")
	if got := d.DockerOK(t, "run", "--rm", "build-chown"); got != "/owned.txt 65534:65534\n/root.txt 0:0\n" {
		t.Errorf("owners: %q", got)
	}
	d.DockerOK(t, "rmi", "build-chown")
}

// TestBuildDockerConfigFields: HEALTHCHECK, SHELL and ONBUILD end up in the
// image config where the image store records Docker's fields, and the
// build warns exactly when it does not; a child build runs the trigger.
func TestBuildDockerConfigFields(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + "\n" +
		"HEALTHCHECK --interval=7s CMD true\n" +
		"SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n" +
		"ONBUILD RUN echo triggered-by-child\n"})
	out := mustBuild(t, d, dir, "-t", "build-fields")
	cfg := d.DockerOK(t, "image", "inspect", "--format", "{{json .Config.Healthcheck}} {{json .Config.Shell}} {{json .Config.OnBuild}}", "build-fields")
	for field, want := range map[string]string{"HEALTHCHECK": `"Interval":7000000000`, "SHELL": `["/bin/sh","-e","-c"]`, "ONBUILD": `["RUN echo triggered-by-child"]`} {
		warned := strings.Contains(out, "[Warning] "+field+" is applied within this build only")
		if stored := strings.Contains(cfg, want); stored == warned {
			t.Errorf("%s: stored %v (config %s), warned %v", field, stored, cfg, warned)
		}
	}
	child := buildContext(t, map[string]string{"Dockerfile": "FROM build-fields\nRUN echo child\n"})
	out = mustBuild(t, d, child, "-t", "build-fields-child")
	if ran := strings.Contains(out, "triggered-by-child\n"); ran != strings.Contains(cfg, "triggered-by-child") {
		t.Errorf("trigger ran %v, stored in %s:\n%s", ran, cfg, out)
	}
	d.DockerOK(t, "rmi", "build-fields-child", "build-fields")
}

// TestBuildCancelled: a client that goes away during a RUN step cancels
// the build; the step's container is killed and removed, nothing tagged.
func TestBuildCancelled(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	before := d.DockerOK(t, "ps", "-aq")
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + "\nRUN echo started && sleep 60\n"})
	cmd := exec.CommandContext(t.Context(), "docker", "build", "-t", "build-cancelled", ".")
	cmd.Env = append(d.DockerEnv(), "DOCKER_BUILDKIT=0")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: harness.Identity().Credential()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scan := bufio.NewScanner(stdout)
	for scan.Scan() && scan.Text() != "started" {
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	harness.Poll(t, 30*time.Second, "the build container to go", func() (bool, string) {
		after := d.DockerOK(t, "ps", "-aq")
		return after == before, after
	})
	if r := d.Docker(t, "image", "inspect", "build-cancelled"); r.ExitCode == 0 {
		t.Errorf("cancelled build tagged an image")
	}
}

// TestBuildPullsMissingBase: FROM an image that is not local pulls it
// (from a loopback registry) and shows the pull in the build output.
func TestBuildPullsMissingBase(t *testing.T) {
	d := harness.Shared(t)
	base := d.LoadBusybox(t)
	ref := harness.StartRegistry(t) + "/buildbase:1"
	d.DockerOK(t, "tag", base, ref)
	d.DockerOK(t, "push", ref)
	d.DockerOK(t, "rmi", ref)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + ref + "\nRUN echo pulled-base-ok\n"})
	out := mustBuild(t, d, dir, "-t", "build-pulled")
	if !strings.Contains(out, "Pulling from "+strings.TrimSuffix(ref, ":1")) || !strings.Contains(out, "pulled-base-ok\n") {
		t.Errorf("build output:\n%s", out)
	}
	d.DockerOK(t, "image", "inspect", ref)
	d.DockerOK(t, "rmi", "build-pulled", ref)
}

// TestBuildPrune: `docker builder prune` removes what a failed build left
// (untagged step images) and keeps tagged builds; `docker system prune`,
// which calls it, succeeds. Its own daemon: system prune would remove
// other tests' containers.
func TestBuildPrune(t *testing.T) {
	d := harness.NewDaemon(t, harness.Options{})
	d.Start(t)
	base := d.LoadBusybox(t)
	keep := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + "\nENV KEEP=1\n"})
	mustBuild(t, d, keep, "-t", "build-prune-keep")
	failing := buildContext(t, map[string]string{"Dockerfile": "FROM " + base + "\nENV LEFT=over\nRUN false\n"})
	res := dockerBuild(t, d, failing)
	i := strings.Index(res.Stdout, "Step 3/3")
	if res.ExitCode == 0 || i < 0 {
		t.Fatalf("failing build:\n%s", res)
	}
	left := strings.TrimSpace(res.Stdout[strings.LastIndex(res.Stdout[:i], "--->")+len("--->") : i])
	d.DockerOK(t, "image", "inspect", left)
	out := d.DockerOK(t, "builder", "prune", "-f")
	if !strings.Contains(out, left) || !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("builder prune printed:\n%s", out)
	}
	if r := d.Docker(t, "image", "inspect", left); r.ExitCode == 0 {
		t.Errorf("image %s left by the failed build survived the prune", left)
	}
	d.DockerOK(t, "image", "inspect", "build-prune-keep")
	d.DockerOK(t, "system", "prune", "-f")
}
