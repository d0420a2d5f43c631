package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

// httpdScript serves "hello from <name>" on port 8080 with busybox httpd.
func httpdScript(name string) string {
	return "mkdir -p /www && echo hello from " + name + " > /www/index.html && exec httpd -f -p 8080 -h /www"
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpGet polls url from the host until it answers with want.
func httpGet(t *testing.T, url, want string) {
	t.Helper()
	c := http.Client{Timeout: 2 * time.Second}
	harness.Poll(t, 15*time.Second, "GET "+url, func() (bool, string) {
		res, err := c.Get(url)
		if err != nil {
			return false, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.Contains(string(b), want), string(b)
	})
}

func TestNetworkBridgeContainersReachEachOther(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	srv := monRun(t, d, httpdScript("srv"))
	ip := monInspect(t, d, srv, "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	if !strings.HasPrefix(ip, "172.17.") {
		t.Fatalf("server address %q is not on the default bridge", ip)
	}
	if legacy := monInspect(t, d, srv, "{{.NetworkSettings.IPAddress}}"); legacy != ip {
		t.Errorf("NetworkSettings.IPAddress %q, want %q", legacy, ip)
	}
	if gw := monInspect(t, d, srv, "{{.NetworkSettings.Networks.bridge.Gateway}}"); gw != "172.17.0.1" {
		t.Errorf("gateway %q", gw)
	}
	if mac := monInspect(t, d, srv, "{{.NetworkSettings.Networks.bridge.MacAddress}}"); !strings.HasPrefix(mac, "02:42:ac:11:") {
		t.Errorf("mac %q", mac)
	}
	// busybox-static's wget crashes in its resolver; nc speaks HTTP/1.0 as well
	get := fmt.Sprintf(`printf 'GET / HTTP/1.0\r\n\r\n' | nc %s 8080`, ip)
	harness.Poll(t, 15*time.Second, "GET from a second container", func() (bool, string) {
		r := d.Docker(t, "run", "--rm", "--add-host", "hostbox:host-gateway", img, "sh", "-c", get)
		return strings.Contains(r.Stdout, "hello from srv"), r.String()
	})
	out := d.DockerOK(t, "run", "--rm", img, "sh", "-c", "cat /sys/class/net/eth0/mtu; ip route 2>/dev/null || route -n; cat /etc/resolv.conf")
	if !strings.Contains(out, "65520") || !strings.Contains(out, "172.17.0.1") || !strings.Contains(out, "nameserver") {
		t.Errorf("container network config:\n%s", out)
	}
	d.DockerOK(t, "stop", "-t", "0", srv)
	if ip := monInspect(t, d, srv, "{{.NetworkSettings.Networks.bridge.IPAddress}}"); ip != "" && ip != "invalid IP" {
		t.Errorf("stopped container still has address %q", ip)
	}
}

func TestNetworkNoneHasOnlyLoopback(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	out := d.DockerOK(t, "run", "--rm", "--network", "none", img, "ls", "/sys/class/net")
	if strings.Fields(out)[0] != "lo" || len(strings.Fields(out)) != 1 {
		t.Errorf("interfaces with --network none: %q", out)
	}
}

func TestNetworkPublishedPort(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	port := freePort(t)
	id := monRun(t, d, "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), httpdScript("published"))
	httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from published")
	if out := strings.TrimSpace(d.DockerOK(t, "port", id, "8080/tcp")); out != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Errorf("docker port: %q", out)
	}
	d.DockerOK(t, "stop", "-t", "0", id)
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Error("published port still open after stop")
	}
}

func TestNetworkPublishAllAndDockerPort(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	id := monRun(t, d, "-P", "--expose", "8080", httpdScript("all"))
	out := strings.TrimSpace(d.DockerOK(t, "port", id, "8080"))
	_, port, ok := strings.Cut(strings.Fields(out)[0], ":")
	if !ok || port == "" || port == "0" {
		t.Fatalf("docker port: %q", out)
	}
	httpGet(t, "http://127.0.0.1:"+port+"/", "hello from all")
	if ps := d.DockerOK(t, "ps", "--format", "{{.Ports}}", "--filter", "id="+id); !strings.Contains(ps, port+"->8080/tcp") {
		t.Errorf("docker ps ports: %q", ps)
	}
}

func TestNetworkPortInUseFailsCleanly(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	r := d.Docker(t, "run", "-d", "--name", "inuse", "-p", fmt.Sprintf("127.0.0.1:%d:81", free),
		"-p", fmt.Sprintf("127.0.0.1:%d:80", busy), img, "sleep", "100")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "address already in use") {
		t.Fatalf("run with a busy port: %s", r)
	}
	if st := monInspect(t, d, "inuse", "{{.State.Status}}"); st == "running" {
		t.Errorf("container state %q", st)
	}
	c, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", free))
	if err != nil {
		t.Fatalf("the other port stayed bound: %v", err)
	}
	c.Close()
}

func TestNetworkUDPEcho(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	port := freePort(t)
	echo := udpEchoBinary(t)
	monRun(t, d, "-v", echo+":/udpecho:ro", "-p", fmt.Sprintf("127.0.0.1:%d:9999/udp", port), "exec /udpecho")
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	harness.Poll(t, 15*time.Second, "udp echo", func() (bool, string) {
		conn.Write([]byte("ping\n"))
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := conn.Read(buf)
		return err == nil && strings.Contains(string(buf[:n]), "ping"), fmt.Sprint(string(buf[:n]), err)
	})
}

// udpEchoSource is a UDP echo server on port 9999 (busybox's nc has no UDP).
const udpEchoSource = `package main

import "net"

func main() {
	c, err := net.ListenPacket("udp", ":9999")
	if err != nil {
		panic(err)
	}
	b := make([]byte, 65536)
	for {
		n, a, err := c.ReadFrom(b)
		if err != nil {
			panic(err)
		}
		c.WriteTo(b[:n], a)
	}
}
`

// udpEchoBinary builds the static UDP echo server the container runs.
func udpEchoBinary(t *testing.T) string {
	t.Helper()
	return staticGoBinary(t, "udpecho", udpEchoSource)
}

// staticGoBinary builds a one-file Go program without cgo, so it runs in
// the busybox image, where the daemon's user can read it.
func staticGoBinary(t *testing.T, name, source string) string {
	t.Helper()
	src := t.TempDir()
	for file, body := range map[string]string{"main.go": source, "go.mod": "module " + name + "\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(src, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(harness.TempDir(t), name)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNetworkUserDefinedLifecycle(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	id := strings.TrimSpace(d.DockerOK(t, "network", "create", "--subnet", "10.77.0.0/24", "--label", "team=a", "appnet"))
	if r := d.Docker(t, "network", "create", "appnet"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "already exists") {
		t.Errorf("duplicate create: %s", r)
	}
	ls := d.DockerOK(t, "network", "ls", "--format", "{{.Name}} {{.Driver}}")
	for _, want := range []string{"appnet bridge", "bridge bridge", "host host", "none null"} {
		if !strings.Contains(ls, want) {
			t.Errorf("network ls lacks %q:\n%s", want, ls)
		}
	}
	if out := d.DockerOK(t, "network", "ls", "-q", "--filter", "label=team=a"); !strings.HasPrefix(id, strings.TrimSpace(out)) || strings.TrimSpace(out) == "" {
		t.Errorf("label filter: %q (id %s)", out, id)
	}
	srv := monRun(t, d, "--network", "appnet", "--ip", "10.77.0.50", httpdScript("appnet"))
	if ip := monInspect(t, d, srv, "{{.NetworkSettings.Networks.appnet.IPAddress}}"); ip != "10.77.0.50" {
		t.Fatalf("address on appnet: %q", ip)
	}
	get := `printf 'GET / HTTP/1.0\r\n\r\n' | nc 10.77.0.50 8080`
	harness.Poll(t, 15*time.Second, "GET on the user network", func() (bool, string) {
		r := d.Docker(t, "run", "--rm", "--network", "appnet", img, "sh", "-c", get)
		return strings.Contains(r.Stdout, "hello from appnet"), r.String()
	})
	if out := d.DockerOK(t, "network", "inspect", "-f", "{{range .Containers}}{{.IPv4Address}}{{end}} {{range .IPAM.Config}}{{.Subnet}}{{end}}", "appnet"); strings.TrimSpace(out) != "10.77.0.50/24 10.77.0.0/24" {
		t.Errorf("network inspect: %q", out)
	}
	if r := d.Docker(t, "network", "rm", "appnet"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "active endpoints") {
		t.Errorf("rm in use: %s", r)
	}
	d.DockerOK(t, "rm", "-f", srv)
	d.DockerOK(t, "network", "rm", "appnet")
	if r := d.Docker(t, "network", "inspect", "appnet"); r.ExitCode == 0 {
		t.Errorf("inspect after rm: %s", r)
	}
}

func TestNetworkConnectRunningContainer(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	d.DockerOK(t, "network", "create", "--subnet", "10.78.0.0/24", "side")
	defer d.Docker(t, "network", "rm", "side")
	id := monRun(t, d, "sleep 1000")
	d.DockerOK(t, "network", "connect", "side", id)
	ip := monInspect(t, d, id, "{{.NetworkSettings.Networks.side.IPAddress}}")
	if !strings.HasPrefix(ip, "10.78.0.") {
		t.Fatalf("address after connect: %q", ip)
	}
	out := d.DockerOK(t, "exec", id, "ls", "/sys/class/net")
	if !strings.Contains(out, "eth1") {
		t.Errorf("no eth1 after connect: %q", out)
	}
	d.DockerOK(t, "network", "disconnect", "side", id)
	if out := d.DockerOK(t, "exec", id, "ls", "/sys/class/net"); strings.Contains(out, "eth1") {
		t.Errorf("eth1 left after disconnect: %q", out)
	}
	d.DockerOK(t, "network", "create", "unused")
	pruned := d.DockerOK(t, "network", "prune", "-f")
	if !strings.Contains(pruned, "unused") || !strings.Contains(pruned, "side") {
		t.Errorf("prune: %q", pruned)
	}
}

func TestNetworkEmbeddedDNS(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	d.DockerOK(t, "network", "create", "--subnet", "10.79.0.0/24", "dnsnet")
	defer d.Docker(t, "network", "rm", "dnsnet")
	srv := monRun(t, d, "--network", "dnsnet", "--name", "web", "--network-alias", "api", httpdScript("web"))
	ip := monInspect(t, d, srv, "{{.NetworkSettings.Networks.dnsnet.IPAddress}}")
	for _, name := range []string{"web", "api", srv[:12]} {
		out := d.DockerOK(t, "run", "--rm", "--network", "dnsnet", img, "nslookup", name)
		if !strings.Contains(out, ip) {
			t.Errorf("nslookup %s: want %s in\n%s", name, ip, out)
		}
	}
	resolv := d.DockerOK(t, "run", "--rm", "--network", "dnsnet", img, "cat", "/etc/resolv.conf")
	if !strings.Contains(resolv, "nameserver 10.79.0.1") {
		t.Errorf("resolv.conf on a user network:\n%s", resolv)
	}
	if r := d.Docker(t, "run", "--rm", "--network", "dnsnet", img, "nslookup", "nosuchcontainer"); r.ExitCode == 0 || strings.Contains(r.Stdout, "Name:") {
		t.Errorf("unknown name resolved: %s", r)
	}
}

// netDaemon starts a daemon of its own with extra flags (see monDaemon).
func netDaemon(t *testing.T, args ...string) *harness.Daemon {
	t.Helper()
	return ownDaemon(t, args...)
}

func TestNetworkHostLoopbackFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from the host") })}
	go srv.Serve(l)
	defer srv.Close()
	get := fmt.Sprintf(`grep -q '^10.0.2.2\s*hostbox' /etc/hosts && printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 10.0.2.2 %d`, l.Addr().(*net.TCPAddr).Port)
	for _, allow := range []bool{false, true} {
		var args []string
		if allow {
			args = []string{"--allow-host-loopback"}
		}
		d := netDaemon(t, args...)
		img := d.LoadBusybox(t)
		r := d.Docker(t, "run", "--rm", "--add-host", "hostbox:host-gateway", img, "sh", "-c", get)
		if got := strings.Contains(r.Stdout, "hello from the host"); got != allow {
			t.Errorf("allow-host-loopback=%v: reached the host: %v\n%s", allow, got, r)
		}
		monRemoveAll(t, d)
	}
}

func TestNetworkEvents(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	since := time.Now().Add(-time.Second).Unix()
	d.DockerOK(t, "network", "create", "evnet")
	id := monRun(t, d, "sleep 1000")
	d.DockerOK(t, "network", "connect", "evnet", id)
	d.DockerOK(t, "network", "disconnect", "evnet", id)
	d.DockerOK(t, "network", "rm", "evnet")
	out := d.DockerOK(t, "events", "--since", fmt.Sprint(since), "--until", fmt.Sprint(time.Now().Unix()+1),
		"--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
	for _, want := range []string{"create evnet", "connect evnet", "disconnect evnet", "destroy evnet"} {
		if !strings.Contains(out, want) {
			t.Errorf("events lack %q:\n%s", want, out)
		}
	}
}

func TestNetworkLegacyLink(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	srv := monRun(t, d, "--name", "db", "--expose", "8080", "-e", "SECRET=s3", httpdScript("db"))
	ip := monInspect(t, d, srv, "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	out := d.DockerOK(t, "run", "--rm", "--link", "db:database", img, "sh", "-c", "cat /etc/hosts; env")
	for _, want := range []string{ip + "\tdatabase", "DATABASE_PORT=tcp://" + ip + ":8080", "DATABASE_PORT_8080_TCP_ADDR=" + ip, "DATABASE_ENV_SECRET=s3", "DATABASE_NAME=/"} {
		if !strings.Contains(out, want) {
			t.Errorf("link: %q missing in\n%s", want, out)
		}
	}
}

// BenchmarkPublishedPortThroughput sends 256 MiB per iteration from the
// host through a published port into a container that discards it.
func BenchmarkPublishedPortThroughput(b *testing.B) {
	d := harness.NewDaemon(b, harness.Options{})
	d.Start(b)
	img := d.LoadBusybox(b)
	port := freePortB(b)
	id := strings.TrimSpace(d.DockerOK(b, "run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), img, "nc", "-ll", "-p", "8080", "-e", "sh", "-c", "cat > /dev/null"))
	defer d.Docker(b, "rm", "-f", id)
	buf := make([]byte, 1<<20)
	const size = 256 << 20
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		c := dialRetry(b, fmt.Sprintf("127.0.0.1:%d", port))
		for sent := 0; sent < size; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c) // until the container closes: all data arrived
		c.Close()
	}
}

// BenchmarkPublishedPortConnect measures one HTTP/1.0 request (connection
// setup, splice, teardown) through a published port.
func BenchmarkPublishedPortConnect(b *testing.B) {
	d := harness.NewDaemon(b, harness.Options{})
	d.Start(b)
	img := d.LoadBusybox(b)
	port := freePortB(b)
	id := strings.TrimSpace(d.DockerOK(b, "run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), img, "sh", "-c", httpdScript("bench")))
	defer d.Docker(b, "rm", "-f", id)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	c := http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	dialRetry(b, fmt.Sprintf("127.0.0.1:%d", port)).Close()
	b.ResetTimer()
	for range b.N {
		res, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

func freePortB(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dialRetry connects once the container listens (a connection to a port
// nothing listens on is closed at once by the forwarder).
func dialRetry(b *testing.B, addr string) net.Conn {
	for range 100 {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
				c.SetReadDeadline(time.Time{})
				return c
			}
			c.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("%s never accepted", addr)
	return nil
}
