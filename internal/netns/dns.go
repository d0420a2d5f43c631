package netns

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/containerd/log"
	"github.com/miekg/dns"
)

// Resolver answers a container name on one network: the addresses of the
// containers (or aliases) of that name, none when it is unknown.
type Resolver func(name string) []netip.Addr

// DNSServer is an embedded DNS server on a bridge's gateway address.
type DNSServer struct {
	udp, tcp *dns.Server
}

// ServeDNS starts a DNS server on addr:53 inside the sandbox. Names that
// resolve answers are served from it; the rest are forwarded to upstream
// ("ip:port"), asked from the daemon's own (host) network namespace, so a
// loopback resolver on the host works.
func (s *Sandbox) ServeDNS(ctx context.Context, addr netip.Addr, resolve Resolver, upstream []string) (*DNSServer, error) {
	hostPort := net.JoinHostPort(addr.String(), "53")
	var pc net.PacketConn
	var l net.Listener
	err := inNetNS(s.path, func() (err error) {
		if pc, err = net.ListenPacket("udp", hostPort); err != nil {
			return err
		}
		if l, err = net.Listen("tcp", hostPort); err != nil {
			pc.Close()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	h := &dnsHandler{ctx: context.WithoutCancel(ctx), resolve: resolve, upstream: upstream}
	srv := &DNSServer{udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: l, Handler: h}}
	go func() { _ = srv.udp.ActivateAndServe() }()
	go func() { _ = srv.tcp.ActivateAndServe() }()
	return srv, nil
}

// Close stops the server.
func (d *DNSServer) Close() {
	_ = d.udp.Shutdown()
	_ = d.tcp.Shutdown()
}

type dnsHandler struct {
	ctx      context.Context
	resolve  Resolver
	upstream []string
}

// ServeDNS answers one query.
func (h *dnsHandler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if res := h.local(req); res != nil {
		_ = w.WriteMsg(res)
		return
	}
	_ = w.WriteMsg(h.forward(req))
}

// local answers A and AAAA questions for names the network knows.
func (h *dnsHandler) local(req *dns.Msg) *dns.Msg {
	if len(req.Question) != 1 {
		return nil
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET || (q.Qtype != dns.TypeA && q.Qtype != dns.TypeAAAA) {
		return nil
	}
	addrs := h.resolve(strings.ToLower(strings.TrimSuffix(q.Name, ".")))
	if len(addrs) == 0 {
		return nil
	}
	res := new(dns.Msg)
	res.SetReply(req)
	res.Authoritative, res.RecursionAvailable = true, true
	for _, a := range addrs {
		hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 600}
		switch {
		case q.Qtype == dns.TypeA && a.Is4():
			res.Answer = append(res.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
		case q.Qtype == dns.TypeAAAA && a.Is6():
			res.Answer = append(res.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
		}
	}
	return res
}

// forward asks the upstream servers in turn; without an answer the client
// gets SERVFAIL.
func (h *dnsHandler) forward(req *dns.Msg) *dns.Msg {
	c := &dns.Client{Timeout: 3 * time.Second}
	for _, up := range h.upstream {
		res, _, err := c.ExchangeContext(h.ctx, req, up)
		if err == nil && res != nil {
			return res
		}
		log.G(h.ctx).WithError(err).WithField("upstream", up).Debug("dns forward")
	}
	res := new(dns.Msg)
	res.SetRcode(req, dns.RcodeServerFailure)
	return res
}
