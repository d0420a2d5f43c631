package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// slirp is a running slirp4netns attached to the sandbox.
type slirp struct {
	cmd  *exec.Cmd
	exit *os.File // closing it tells slirp4netns to exit
	done chan struct{}
}

// startSlirp starts slirp4netns on the sandbox namespace and waits until
// tap0 is configured (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3).
func startSlirp(ctx context.Context, opt SandboxOpt, nsPath string) (*slirp, error) {
	bin := opt.Slirp4netns
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("slirp4netns"); err != nil {
			return nil, err
		}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	cmd := exec.Command(bin, slirpArgs(opt, nsPath)...)
	cmd.ExtraFiles = []*os.File{readyW, exitR} // fds 3 and 4
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("start slirp4netns: %w", err)
	}
	s := &slirp{cmd: cmd, exit: exitW, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := waitReady(ctx, readyR, s.done); err != nil {
		s.stop()
		return nil, fmt.Errorf("slirp4netns: %w: %s", err, stderr.String())
	}
	return s, nil
}

func slirpArgs(opt SandboxOpt, nsPath string) []string {
	args := []string{"--configure", "--mtu=" + strconv.Itoa(SlirpMTU), "--ready-fd=3", "--exit-fd=4", "--netns-type=path"}
	if !opt.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	return append(args, nsPath, tapName)
}

// waitReady waits for slirp4netns to write to its ready fd.
func waitReady(ctx context.Context, r *os.File, done <-chan struct{}) error {
	got := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := r.Read(b)
		got <- err
	}()
	select {
	case err := <-got:
		if errors.Is(err, io.EOF) {
			return errors.New("exited before it was ready")
		}
		return err
	case <-done:
		return errors.New("exited before it was ready")
	case <-time.After(10 * time.Second):
		return errors.New("not ready after 10s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop asks slirp4netns to exit and waits a moment for it.
func (s *slirp) stop() {
	s.exit.Close()
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
