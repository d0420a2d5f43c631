package netns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/log"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
)

// BenchmarkPortForwarders compares, on this machine, the throughput of a
// published port (host 127.0.0.1 -> forwarder -> server) through
// RootlessKit's builtin port driver, which rootless Docker uses, and
// through the daemon's own forwarder (Sandbox.Publish):
//
//	go test -run '^$' -bench PortForwarders ./internal/netns
//
// The builtin driver gets its best case: its child dials a server on the
// child namespace's own loopback (rootless Docker adds at least a veth hop
// to the container). Ours is measured as in the daemon, through the
// sandbox's bridge and a veth pair into a container namespace, and, for
// the like-for-like figure, to a server in the sandbox namespace itself
// (the bridge's address: no veth).
func BenchmarkPortForwarders(b *testing.B) {
	if !benchInDaemonNS(b) {
		return
	}
	b.Run("rootlesskit-builtin", benchBuiltinDriver)
	b.Run("dockerd-lite", func(b *testing.B) { benchSandboxPublish(b, true) })
	b.Run("dockerd-lite-no-veth", func(b *testing.B) { benchSandboxPublish(b, false) })
}

// benchChunk is what one iteration sends.
const benchChunk = 64 << 20

// envBenchChild and envBuiltinChild mark the re-executed test binary:
// the benchmark itself inside a user and mount namespace, and RootlessKit's
// child side inside a user and network namespace.
const (
	envBenchChild   = "NETNS_BENCH_IN_NS"
	envBuiltinChild = "NETNS_BENCH_BUILTIN_CHILD"
)

func init() {
	if opaque := os.Getenv(envBuiltinChild); opaque != "" {
		os.Exit(runBuiltinChild(opaque))
	}
}

// benchInDaemonNS re-runs the benchmark as uid 0 of a new user and mount
// namespace (the daemon's position) and relays its output; it returns
// true inside.
func benchInDaemonNS(b *testing.B) bool {
	if os.Getenv(envBenchChild) != "" {
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			b.Fatalf("make mounts private: %v", err)
		}
		return true
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$", "-test.bench=^"+b.Name()+"$", "-test.benchtime="+benchtime())
	cmd.Env = append(os.Environ(), envBenchChild+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}}
	out, err := cmd.CombinedOutput()
	fmt.Print(string(out))
	if err != nil && cmd.ProcessState == nil {
		b.Skipf("user namespaces unavailable: %v", err)
	}
	if err != nil {
		b.Fatalf("in the namespace: %v", err)
	}
	b.Skip("ran in a user namespace: figures above")
	return false
}

func benchtime() string {
	if f := flagValue("test.benchtime"); f != "" {
		return f
	}
	return "1s"
}

func flagValue(name string) string {
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			return v
		}
	}
	return ""
}

// benchSend sends b.N chunks over fresh connections to addr, each until
// the sink closed after reading it all.
func benchSend(b *testing.B, addr string) {
	buf := make([]byte, 1<<20)
	waitAccepting(b, addr)
	b.SetBytes(benchChunk)
	b.ResetTimer()
	for range b.N {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		for sent := 0; sent < benchChunk; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// waitAccepting waits until a connection to addr reaches the sink: the
// sink then keeps it open until our end closes.
func waitAccepting(b *testing.B, addr string) {
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err = c.Read(make([]byte, 1))
			c.Close()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%s never reached the sink", addr)
}

// serveSink reads every connection to EOF, then closes it.
func serveSink(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() { io.CopyBuffer(io.Discard, c, make([]byte, 1<<20)); c.Close() }()
	}
}

func freeHostPort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func benchSandboxPublish(b *testing.B, veth bool) {
	quiet := logrus.New()
	quiet.Out = io.Discard // no "no outbound network" warning in the figures
	ctx := log.WithLogger(b.Context(), logrus.NewEntry(quiet))
	sb, target := sandboxWithPeer(b, ctx, "10.95.0.0", "bbbbbbbbbbbb")
	gw := netip.MustParsePrefix("10.95.0.1/24")
	ns := sb.NetNSPath("bbbbbbbbbbbb")
	if !veth {
		ns, target = sb.Path(), gw.Addr()
	}
	var l net.Listener
	if err := inNetNS(ns, func() (err error) { l, err = net.Listen("tcp", net.JoinHostPort(target.String(), "8080")); return err }); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go serveSink(l)
	pub, err := sb.Publish(ctx, target, []PortMapping{{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), ContainerPort: 8080}})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	benchSend(b, fmt.Sprintf("127.0.0.1:%d", pub.Mappings[0].HostPort))
}

func benchBuiltinDriver(b *testing.B) {
	d, err := builtin.NewParentDriver(io.Discard, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	child, quitChild := startBuiltinChild(b, d.OpaqueForChild())
	defer quitChild()
	initDone, quit, errc := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() { errc <- d.RunParentDriver(initDone, quit, &port.ChildContext{}) }()
	select {
	case <-initDone:
	case err := <-errc:
		b.Fatal(err)
	}
	defer func() { close(quit); <-errc }()
	hostPort := freeHostPort(b)
	if _, err := d.AddPort(context.WithoutCancel(b.Context()), port.Spec{Proto: "tcp", ParentIP: "127.0.0.1", ParentPort: hostPort, ChildPort: 8080}); err != nil {
		b.Fatalf("add port (child pid %d): %v", child, err)
	}
	benchSend(b, fmt.Sprintf("127.0.0.1:%d", hostPort))
}

// startBuiltinChild runs RootlessKit's child side in a new user and
// network namespace, with the sink on its loopback port 8080.
func startBuiltinChild(b *testing.B, opaque map[string]string) (int, func()) {
	js, err := json.Marshal(opaque)
	if err != nil {
		b.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), envBuiltinChild+"="+string(js))
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = os.Stderr, os.Stderr, []*os.File{pr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pr.Close()
	return cmd.Process.Pid, func() { pw.Close(); _ = cmd.Wait() }
}

// runBuiltinChild is the re-executed child: loopback up, the sink on
// 127.0.0.1:8080, RootlessKit's child driver until fd 3 closes.
func runBuiltinChild(opaqueJSON string) int {
	var opaque map[string]string
	if err := json.Unmarshal([]byte(opaqueJSON), &opaque); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if lo, err := netlink.LinkByName("lo"); err != nil || netlink.LinkSetUp(lo) != nil {
		fmt.Fprintln(os.Stderr, "bring up loopback:", err)
		return 1
	}
	l, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go serveSink(l)
	quit := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.NewFile(3, "quit")); close(quit) }()
	if err := builtin.NewChildDriver(os.Stderr).RunChildDriver(opaque, quit, ""); err != nil {
		fmt.Fprintln(os.Stderr, "child driver:", err)
		return 1
	}
	return 0
}
