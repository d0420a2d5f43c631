package e2e

import (
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// TestTestcontainersGo drives the daemon with testcontainers-go, as a Go
// project's integration tests would: a network, a container with a file,
// an exposed port and a wait strategy, exec, logs, terminate. Ryuk (the
// reaper image from Docker Hub) is off: no network beyond loopback here.
func TestTestcontainersGo(t *testing.T) {
	d, img := ctDaemon(t)
	t.Setenv("DOCKER_HOST", d.Host())
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	ctx, yes := t.Context(), true
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatalf("network: %v", err)
	}
	defer nw.Remove(ctx)
	c, err := testcontainers.Run(ctx, img,
		testcontainers.WithCmd("sh", "-c", httpdScript("testcontainers")),
		testcontainers.WithExposedPorts("8080/tcp"),
		network.WithNetwork([]string{"web"}, nw),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: strings.NewReader("copied"), ContainerFilePath: "/tmp/c.txt", FileMode: 0o644}),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("8080/tcp")),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.Init = &yes }),
	)
	if c != nil {
		defer testcontainers.TerminateContainer(c)
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	ep, err := c.PortEndpoint(ctx, "8080/tcp", "http")
	if err != nil {
		t.Fatal(err)
	}
	httpGet(t, ep+"/", "hello from testcontainers")
	code, out, err := c.Exec(ctx, []string{"cat", "/tmp/c.txt"})
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	if b, _ := io.ReadAll(out); !strings.Contains(string(b), "copied") {
		t.Errorf("exec output %q", b)
	}
	if err := testcontainers.TerminateContainer(c); err != nil {
		t.Errorf("terminate: %v", err)
	}
}
