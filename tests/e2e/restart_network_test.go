package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// ctPrivateDaemon starts a daemon of its own on a short exec root; Launch,
// not Start, so that killing it is not counted as a crash.
func ctPrivateDaemon(t *testing.T) (*harness.Daemon, string) {
	t.Helper()
	root := ctExecRoot(t)
	d := harness.NewDaemon(t, harness.Options{Args: []string{"--exec-root", root}})
	d.Launch(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := d.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return d, root
}

// ctCrashAndRestart kills -9 every process of d but the shims and their
// containers, calls whileDown (if set), then starts a daemon again on the
// same roots.
func ctCrashAndRestart(t *testing.T, d *harness.Daemon, execRoot string, whileDown func()) *harness.Daemon {
	t.Helper()
	keep, victims := ctSplitShims(d.Processes())
	if len(keep) == 0 {
		t.Fatalf("no shims among the daemon's processes %v", d.Processes())
	}
	t.Cleanup(ctKillLater(keep))
	ctKill(victims)
	harness.Poll(t, 10*time.Second, "the killed processes to be gone", func() (bool, string) {
		alive := slices.DeleteFunc(slices.Clone(victims), func(p int) bool { _, err := daemon.UIDs(p); return err != nil })
		return len(alive) == 0, fmt.Sprint(alive)
	})
	<-d.Exited()
	if whileDown != nil {
		whileDown()
	}
	d2 := harness.NewDaemon(t, harness.Options{DataRoot: d.DataRoot, Args: []string{"--exec-root", execRoot}})
	d2.Start(t)
	return d2
}

// TestNetworkSurvivesDaemonKill: containers that outlive a daemon crash
// keep their addresses, names and published ports under the next daemon.
func TestNetworkSurvivesDaemonKill(t *testing.T) {
	t.Parallel()
	d1, root := ctPrivateDaemon(t)
	img := d1.LoadBusybox(t)
	d1.DockerOK(t, "network", "create", "--subnet", "10.81.0.0/24", "keepnet")
	port := freePort(t)
	srv := strings.TrimSpace(d1.DockerOK(t, "run", "-d", "--name", "keepsrv", "--network", "keepnet",
		"-p", fmt.Sprintf("127.0.0.1:%d:8080", port), img, "sh", "-c", httpdScript("keepsrv")))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	httpGet(t, url, "hello from keepsrv")
	ip := monInspect(t, d1, srv, "{{.NetworkSettings.Networks.keepnet.IPAddress}}")

	d2 := ctCrashAndRestart(t, d1, root, nil)
	t.Cleanup(func() { ctRemove(t, d2, srv) })
	if got := monInspect(t, d2, srv, "{{.State.Running}} {{.NetworkSettings.Networks.keepnet.IPAddress}}"); got != "true "+ip {
		t.Fatalf("after the restart: running and address = %q, want true %s\n%s", got, ip, strings.Join(d2.TailLog(30), "\n"))
	}
	httpGet(t, url, "hello from keepsrv")
	get := `printf 'GET / HTTP/1.0\r\n\r\n' | nc keepsrv 8080`
	out := d2.DockerOK(t, "run", "--rm", "--network", "keepnet", img, "sh", "-c",
		"ip -4 -o addr show eth0; "+get)
	if !strings.Contains(out, "hello from keepsrv") || strings.Contains(out, ip+"/") {
		t.Errorf("a new container on the network (must reach keepsrv by name, with another address than %s):\n%s", ip, out)
	}
	d2.DockerOK(t, "stop", "-t", "0", srv)
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Error("published port still open after stop")
	}
	d2.DockerOK(t, "rm", srv)
	d2.DockerOK(t, "network", "rm", "keepnet")
}
