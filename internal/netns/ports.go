package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/log"
)

// PortMapping is one published port. The daemon listens on HostIP:HostPort
// in the host network namespace and forwards to the container's port.
type PortMapping struct {
	Proto         string     // "tcp" or "udp"
	HostIP        netip.Addr // invalid: every address
	HostPort      uint16     // 0: a free port is chosen
	HostPortEnd   uint16     // > HostPort: the first free port of the range
	ContainerPort uint16
	// DualStack is set by Publish when an unspecified HostIP was bound on
	// IPv6's wildcard, which also takes IPv4: the host has IPv6.
	DualStack bool
}

// Published is one container's set of published ports.
type Published struct {
	// Mappings are the requested ones with the host ports actually bound.
	Mappings []PortMapping
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Publish binds every mapping's host port, then forwards in the background
// to target, dialing from inside the sandbox. If any port cannot be bound,
// none stays bound.
func (s *Sandbox) Publish(ctx context.Context, target netip.Addr, maps []PortMapping) (_ *Published, err error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &Published{cancel: cancel}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	maps = uniqueMappings(maps)
	keep := s.keepSources(ctx, maps)
	var serve []func()
	for _, m := range maps {
		fn, bound, err := s.bind(ctx, m, target, keep)
		if err != nil {
			return nil, err
		}
		p.Mappings = append(p.Mappings, bound)
		serve = append(serve, fn)
	}
	for _, fn := range serve {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); fn() }()
	}
	return p, nil
}

// uniqueMappings drops repeated mappings of a fixed host port. "0.0.0.0"
// and "::" both arrive as an unspecified HostIP and are one dual-stack
// socket here, so a port listed with both (as NetworkSettings.Ports lists
// it when the host has IPv6, and as a user may ask for it) is bound once.
func uniqueMappings(maps []PortMapping) []PortMapping {
	seen := map[PortMapping]bool{}
	var out []PortMapping
	for _, m := range maps {
		key := m
		key.DualStack = false
		if m.HostPort != 0 && seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, m)
	}
	return out
}

// Close stops forwarding: it closes the listeners and open connections.
func (p *Published) Close() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
}

// bind opens m's host socket and returns its serving loop.
func (s *Sandbox) bind(ctx context.Context, m PortMapping, target netip.Addr, keep bool) (func(), PortMapping, error) {
	last := max(m.HostPortEnd, m.HostPort)
	var err error
	for port := m.HostPort; ; port++ {
		addr := net.JoinHostPort(hostString(m.HostIP), strconv.Itoa(int(port)))
		dst := net.JoinHostPort(target.String(), strconv.Itoa(int(m.ContainerPort)))
		var fn func()
		var got netip.AddrPort
		fn, got, err = s.listen(ctx, m.Proto, addr, dst, keep)
		if err == nil {
			m.HostPort, m.HostPortEnd = got.Port(), 0
			m.DualStack = !m.HostIP.IsValid() && got.Addr().Is6() && got.Addr().IsUnspecified()
			return fn, m, nil
		}
		if port >= last {
			return nil, m, err
		}
	}
}

func hostString(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() && a.Is6() {
		return ""
	}
	return a.String()
}

// listen binds addr and returns the forwarding loop and the bound address.
func (s *Sandbox) listen(ctx context.Context, proto, addr, dst string, keep bool) (func(), netip.AddrPort, error) {
	var lc net.ListenConfig
	switch proto {
	case "tcp", "":
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		context.AfterFunc(ctx, func() { l.Close() })
		return func() { s.serveTCP(ctx, l, dst, keep) }, l.Addr().(*net.TCPAddr).AddrPort(), nil
	case "udp":
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		context.AfterFunc(ctx, func() { pc.Close() })
		return func() { s.serveUDP(ctx, pc.(*net.UDPConn), dst, keep) }, pc.LocalAddr().(*net.UDPAddr).AddrPort(), nil
	}
	return nil, netip.AddrPort{}, fmt.Errorf("unsupported protocol %q", proto)
}

// serveTCP accepts until ctx ends and splices each connection; with keep
// set, from the client's own address where possible (dialFrom).
func (s *Sandbox) serveTCP(ctx context.Context, l net.Listener, dst string, keep bool) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				log.G(ctx).WithError(err).Warn("accept on published port")
			}
			return
		}
		conns.Add(1)
		go func() { defer conns.Done(); s.forwardTCP(ctx, c.(*net.TCPConn), dst, keep) }()
	}
}

// forwardTCP dials dst in the sandbox and copies both ways; each side's
// end of stream is passed on as a half-close.
func (s *Sandbox) forwardTCP(ctx context.Context, in *net.TCPConn, dst string, keep bool) {
	defer in.Close()
	out, err := s.dialFrom(ctx, "tcp", dst, in.RemoteAddr(), keep)
	if err != nil {
		log.G(ctx).WithError(err).Debug("dial published port target")
		return
	}
	defer out.Close()
	stop := context.AfterFunc(ctx, func() { in.Close(); out.Close() })
	defer stop()
	done := make(chan struct{})
	go func() {
		io.Copy(out, in)
		out.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(in, out)
	in.CloseWrite()
	<-done
}

// DialContext connects from inside the sandbox namespace. The socket is
// made on a thread that entered the sandbox and is then discarded (the
// daemon cannot switch a thread back to the host namespace).
func (s *Sandbox) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetNS(s.path, func() error {
		d := net.Dialer{Timeout: 10 * time.Second}
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
