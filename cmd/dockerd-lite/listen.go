package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/log"

	"github.com/dockerd-lite/dockerd-lite/internal/config"
)

// listeners are the API sockets the parent creates on the host and hands
// to the daemon as inherited file descriptors (fd 3.. in -H order). Doing it
// in the parent lets root bind /var/run/docker.sock and privileged ports,
// and keeps socket ownership the host user's.
type listeners struct {
	files   []*os.File
	sockets []string // unix socket paths to remove on exit
}

func (l *listeners) close() {
	for _, f := range l.files {
		f.Close()
	}
	for _, s := range l.sockets {
		os.Remove(s)
	}
}

func listen(ctx context.Context, cfg config.Config) (*listeners, error) {
	l := &listeners{}
	for _, h := range cfg.Hosts {
		f, err := listenOne(ctx, h, cfg.Group, l)
		if err != nil {
			l.close()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

func listenOne(ctx context.Context, host, group string, l *listeners) (*os.File, error) {
	proto, addr, _ := strings.Cut(host, "://")
	if proto == "unix" {
		ln, err := listenUnix(addr, group)
		if err != nil {
			return nil, err
		}
		l.sockets = append(l.sockets, addr)
		defer ln.Close()
		log.G(ctx).WithField("socket", addr).Info("API listening")
		return ln.File()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", host, err)
	}
	defer ln.Close()
	log.G(ctx).WithField("address", addr).Info("API listening")
	return ln.(*net.TCPListener).File()
}

// listenUnix creates the socket with mode 0600 (0660 and the group with
// --group). A socket file left by a dead daemon is replaced; one that still
// answers belongs to a live daemon and is an error.
func listenUnix(path, group string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s is in use by another daemon", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on unix://%s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := chmodSocket(path, group); err != nil {
		ln.Close()
		os.Remove(path)
		return nil, err
	}
	return ln, nil
}

func chmodSocket(path, group string) error {
	if group == "" {
		return os.Chmod(path, 0o600)
	}
	gid, err := lookupGroup(group)
	if err != nil {
		return err
	}
	if err := os.Chown(path, -1, gid); err != nil {
		return fmt.Errorf("give socket to group %s: %w", group, err)
	}
	return os.Chmod(path, 0o660)
}

func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("socket group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}

// inheritedListeners turns the parent's descriptors back into listeners,
// wrapping TCP ones in TLS as configured.
func inheritedListeners(cfg config.Config) ([]net.Listener, error) {
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if n != len(cfg.Hosts) {
		return nil, fmt.Errorf("expected %d inherited sockets, got %d", len(cfg.Hosts), n)
	}
	tlsCfg, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	var out []net.Listener
	for i, h := range cfg.Hosts {
		f := os.NewFile(uintptr(3+i), h)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("inherit %s: %w", h, err)
		}
		if strings.HasPrefix(h, "tcp://") && tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		out = append(out, ln)
	}
	return out, nil
}

// serverTLS builds the TCP listeners' TLS configuration (nil: plain TCP,
// which config validation allowed only when the user asked for it).
func serverTLS(cfg config.Config) (*tls.Config, error) {
	if !cfg.TLSEnabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if cfg.VerifyClients() {
		pem, err := os.ReadFile(cfg.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates in %s", cfg.TLSCACert)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}
