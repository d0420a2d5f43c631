package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// Ports the server listens on inside the container.
const (
	sinkPort  = 8080 // reads until EOF, then closes: the throughput target
	greetPort = 8081 // writes one byte on accept, then closes: the latency target
)

// serverSource is the static server the container runs. busybox's nc and
// httpd fork a process per connection, which would dominate the connect
// figure; this answers from a goroutine, like the host baseline below.
const serverSource = `package main

import (
	"io"
	"net"
)

func main() {
	sink, err := net.Listen("tcp", ":8080")
	if err != nil {
		panic(err)
	}
	greet, err := net.Listen("tcp", ":8081")
	if err != nil {
		panic(err)
	}
	go serve(greet, func(c net.Conn) { c.Write([]byte{'x'}) })
	serve(sink, func(c net.Conn) { io.CopyBuffer(io.Discard, c, make([]byte, 1<<20)) })
}

func serve(l net.Listener, fn func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			panic(err)
		}
		go func() { fn(c); c.Close() }()
	}
}
`

// buildServer compiles serverSource (static, no cgo: the busybox image
// has no libc) into dir/portsrv.
func buildServer(ctx context.Context, dir string) (string, error) {
	src, err := os.MkdirTemp("", "dl-bench-portsrv-")
	if err != nil {
		return "", fmt.Errorf("create server source dir: %w", err)
	}
	defer os.RemoveAll(src)
	files := map[string]string{"main.go": serverSource, "go.mod": "module portsrv\n\ngo 1.21\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return "", fmt.Errorf("write server source: %w", err)
		}
	}
	out := filepath.Join(dir, "portsrv")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build port server: %w\n%s", err, b)
	}
	return out, os.Chmod(out, 0o755)
}

// hostServer runs the same two handlers on the host's loopback, without
// the daemon: the baseline the forwarder is compared with.
type hostServer struct {
	sink, greet net.Listener
}

func startHostServer() (*hostServer, error) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	greet, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sink.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	go serve(greet, func(c net.Conn) { _, _ = c.Write([]byte{'x'}) })
	go serve(sink, func(c net.Conn) { _, _ = io.CopyBuffer(io.Discard, c, make([]byte, 1<<20)) })
	return &hostServer{sink: sink, greet: greet}, nil
}

func (s *hostServer) close() {
	s.sink.Close()
	s.greet.Close()
}

func serve(l net.Listener, fn func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() { fn(c); c.Close() }()
	}
}
