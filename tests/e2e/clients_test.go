package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// TestExecDefaultPathAndLogDriver: an image without PATH (imported from an
// export) still runs and execs commands by name, as Docker adds its
// default PATH; inspect names the json-file log driver; others are refused.
func TestExecDefaultPathAndLogDriver(t *testing.T) {
	t.Parallel()
	d, img := ctDaemon(t)
	src := strings.TrimSpace(d.DockerOK(t, "create", img, "true"))
	t.Cleanup(func() { ctRemove(t, d, src) })
	tar := d.DockerOK(t, "export", src)
	bare := strings.TrimSpace(d.DockerStdin(t, strings.NewReader(tar), "import", "-").Stdout)
	t.Cleanup(func() { d.Docker(t, "rmi", "-f", bare) })
	id := ctRunD(t, d, bare, "sleep", "300")
	if out := d.DockerOK(t, "exec", id, "echo", "found"); out != "found\n" {
		t.Errorf("exec by name in an image without PATH printed %q", out)
	}
	if got := monInspect(t, d, id, "{{.HostConfig.LogConfig.Type}}"); got != "json-file" {
		t.Errorf("LogConfig.Type = %q, want json-file", got)
	}
	if r := d.Docker(t, "create", "--log-driver", "syslog", img, "true"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "json-file only") {
		t.Errorf("--log-driver syslog: %s", r)
	}
}

// clientPy is a docker-py session covering what libraries built on it do.
const clientPy = `
import io, tarfile, sys, docker
c = docker.from_env(version="auto")
img = sys.argv[1]
assert c.ping()
assert c.containers.run(img, ["echo", "hello"], remove=True) == b"hello\n"
ctr = c.containers.run(img, ["sleep", "60"], detach=True, ports={"8080/tcp": None}, labels={"k": "v"})
ctr.reload()
assert ctr.status == "running" and ctr.labels == {"k": "v"}, ctr.attrs["State"]
assert ctr.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
r = ctr.exec_run(["sh", "-c", "echo $A; exit 3"], environment={"A": "2"})
assert (r.exit_code, r.output) == (3, b"2\n"), r
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    ti = tarfile.TarInfo("f.txt"); ti.size = 7; t.addfile(ti, io.BytesIO(b"payload"))
assert ctr.put_archive("/tmp", buf.getvalue())
bits, stat = ctr.get_archive("/tmp/f.txt")
assert stat["size"] == 7, stat
assert "PID" in ctr.top()["Titles"]
assert ctr.stats(stream=False)["memory_stats"]
ctr.kill()
assert ctr.wait()["StatusCode"] == 137
ctr.remove()
v = c.volumes.create("e2e-py-vol"); v.remove()
n = c.networks.create("e2e-py-net"); n.remove()
print("ok")
`

// TestDockerPyClient drives the daemon with docker-py (Debian's
// python3-docker), as scripts and test libraries do.
func TestDockerPyClient(t *testing.T) {
	t.Parallel()
	py := clientTool(t, "/usr/bin/python3", "-c", "import docker")
	d, img := ctDaemon(t)
	if r := d.Run(t, nil, py, "-c", clientPy, img); r.ExitCode != 0 || r.Stdout != "ok\n" {
		t.Errorf("docker-py session failed:\n%s", r)
	}
}

// TestDockerComposeV1: up (building one service with the classic
// builder), exec across the project network by service name, the
// published port, then down -v removes everything.
func TestDockerComposeV1(t *testing.T) {
	t.Parallel()
	compose := clientTool(t, "/usr/bin/docker-compose", "version")
	d, img := ctDaemon(t)
	port := freePort(t)
	dir := harness.TempDir(t)
	harness.WriteFile(t, dir, "docker-compose.yml", []byte(fmt.Sprintf(composeYAML, img, httpdScript("compose"), port, img)), 0o644)
	harness.WriteFile(t, dir, "Dockerfile", []byte("FROM "+img+"\nRUN echo built by compose > /b.txt\nCMD [\"sleep\", \"300\"]\n"), 0o644)
	run := func(args ...string) harness.Result {
		return d.Run(t, nil, compose, append([]string{"-f", dir + "/docker-compose.yml", "-p", "e2ecompose"}, args...)...)
	}
	if r := run("up", "-d"); r.ExitCode != 0 {
		t.Fatalf("compose up:\n%s", r)
	}
	t.Cleanup(func() { run("down", "-v") })
	httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from compose")
	get := `printf 'GET / HTTP/1.0\r\n\r\n' | nc web 8080`
	if r := run("exec", "-T", "client", "sh", "-c", get); !strings.Contains(r.Stdout, "hello from compose") {
		t.Errorf("client -> web by service name:\n%s", r)
	}
	if r := run("exec", "-T", "built", "cat", "/b.txt"); r.Stdout != "built by compose\n" {
		t.Errorf("service built from a Dockerfile:\n%s", r)
	}
	if r := run("down", "-v", "--rmi", "local"); r.ExitCode != 0 {
		t.Fatalf("compose down:\n%s", r)
	}
	for _, what := range [][]string{{"ps", "-aq", "--filter", "label=com.docker.compose.project=e2ecompose"},
		{"network", "ls", "-q", "--filter", "name=e2ecompose"}, {"volume", "ls", "-q", "--filter", "name=e2ecompose"}} {
		if out := d.DockerOK(t, what...); out != "" {
			t.Errorf("after down -v, docker %s lists %q", strings.Join(what, " "), out)
		}
	}
}

const composeYAML = `version: "3.8"
services:
  web:
    image: %s
    init: true
    command: ["sh", "-c", %q]
    ports: ["127.0.0.1:%d:8080"]
    volumes: ["data:/data"]
    networks: [appnet]
  client:
    image: %s
    init: true
    command: ["sleep", "300"]
    depends_on: [web]
    networks: [appnet]
  built:
    build: .
    init: true
networks:
  appnet: {}
volumes:
  data: {}
`

// clientTool returns prog when `prog args...` works, else skips t (CI
// installs the clients, see hack/setup-host.sh).
func clientTool(t *testing.T, prog string, args ...string) string {
	t.Helper()
	if err := exec.Command(prog, args...).Run(); err != nil {
		t.Skipf("%s unavailable (apt-get install python3-docker docker-compose): %v", prog, err)
	}
	return prog
}
