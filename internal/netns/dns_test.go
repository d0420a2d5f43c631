package netns

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
)

func TestDNSAnswersNamesAndForwards(t *testing.T) {
	if !inDaemonNS(t) {
		return
	}
	ctx := t.Context()
	sb, err := OpenSandbox(ctx, SandboxOpt{Root: filepath.Join(t.TempDir(), "net"), Slirp4netns: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	gw := netip.MustParsePrefix("10.97.0.1/24")
	if err := sb.EnsureBridge(ctx, "br-dns", gw, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.CreateNetNS(ctx, "dddddddddddd"); err != nil {
		t.Fatal(err)
	}
	defer sb.DeleteNetNS(ctx, "dddddddddddd")
	if err := sb.AddInterface(ctx, "dddddddddddd", Interface{Bridge: "br-dns", IfName: "eth0", Addr: netip.MustParsePrefix("10.97.0.2/24"), Gateway: gw.Addr()}); err != nil {
		t.Fatal(err)
	}
	upstream := fakeUpstream(t)
	web := netip.MustParseAddr("10.97.0.9")
	srv, err := sb.ServeDNS(ctx, gw.Addr(), func(name string) []netip.Addr {
		if name == "web" {
			return []netip.Addr{web}
		}
		return nil
	}, []string{upstream})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for name, want := range map[string]string{"web.": "10.97.0.9", "example.test.": "192.0.2.7"} {
		var res *dns.Msg
		err := inNetNS(sb.NetNSPath("dddddddddddd"), func() (err error) {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			res, err = dns.Exchange(m, "10.97.0.1:53")
			return err
		})
		if err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		if len(res.Answer) != 1 || res.Answer[0].(*dns.A).A.String() != want {
			t.Errorf("%s: %v", name, res.Answer)
		}
	}
}

// fakeUpstream answers every A question with 192.0.2.7 on host loopback.
func fakeUpstream(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 7)})
		w.WriteMsg(m)
	})}
	go s.ActivateAndServe()
	t.Cleanup(func() { s.Shutdown() })
	return pc.LocalAddr().String()
}

// TestDNSLocalAnswersByFamily checks that A questions get the IPv4 and
// AAAA questions the IPv6 addresses of a name, and that a known name
// without an address of the asked family gets an empty answer (not a
// forward).
func TestDNSLocalAnswersByFamily(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.9.0.2"), netip.MustParseAddr("fd00:9::2")
	h := &dnsHandler{resolve: func(name string) []netip.Addr {
		switch name {
		case "dual":
			return []netip.Addr{v4, v6}
		case "v4only":
			return []netip.Addr{v4}
		}
		return nil
	}}
	ask := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		return h.local(m)
	}
	if res := ask("dual.", dns.TypeAAAA); res == nil || len(res.Answer) != 1 || res.Answer[0].(*dns.AAAA).AAAA.String() != "fd00:9::2" {
		t.Errorf("AAAA dual: %v", res)
	}
	if res := ask("dual.", dns.TypeA); res == nil || len(res.Answer) != 1 || res.Answer[0].(*dns.A).A.String() != "10.9.0.2" {
		t.Errorf("A dual: %v", res)
	}
	if res := ask("v4only.", dns.TypeAAAA); res == nil || len(res.Answer) != 0 || res.Rcode != dns.RcodeSuccess {
		t.Errorf("AAAA v4only: %v", res)
	}
	if res := ask("unknown.", dns.TypeAAAA); res != nil {
		t.Errorf("unknown name answered locally: %v", res)
	}
}
