package netns

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// natTable is the sandbox's nftables table; the sandbox namespace is ours
// alone, so one table holds every rule.
const natTable = "dockerd-lite"

// nft runs fn on an nftables connection bound to the sandbox and flushes.
func (s *Sandbox) nft(fn func(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain)) error {
	return s.nftChains(func(c *nftables.Conn, t *nftables.Table, post, _ *nftables.Chain) { fn(c, t, post) })
}

// nftChains runs fn with the table's postrouting (nat) and forward
// (filter) chains.
func (s *Sandbox) nftChains(fn func(c *nftables.Conn, t *nftables.Table, post, fwd *nftables.Chain)) error {
	if err := s.nftDeclare(); err != nil {
		return err
	}
	return inNetNS(s.path, func() error {
		c, err := nftables.New() // sockets of this thread: the sandbox's
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		t := nftTable()
		fn(c, t, &nftables.Chain{Name: "postrouting", Table: t}, &nftables.Chain{Name: "forward", Table: t})
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		return nil
	})
}

func nftTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyIPv4, Name: natTable}
}

// nftDeclare creates the table and its base chains once per sandbox (an
// earlier daemon's are kept): declaring a base chain again re-registers
// its hook, which costs the kernel about 15 ms every time.
func (s *Sandbox) nftDeclare() error {
	s.nftMu.Lock()
	defer s.nftMu.Unlock()
	if s.nftReady {
		return nil
	}
	err := inNetNS(s.path, func() error {
		c, err := nftables.New()
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		t := c.AddTable(nftTable())
		policy := nftables.ChainPolicyAccept
		for _, ch := range []*nftables.Chain{
			{Name: "postrouting", Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
			{Name: "forward", Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter},
			{Name: "prerouting", Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle},
		} {
			ch.Table, ch.Policy = t, &policy
			c.AddChain(ch)
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		return nil
	})
	s.nftReady = err == nil
	return err
}

// addMasquerade masquerades traffic from subnet leaving through tap0.
func (s *Sandbox) addMasquerade(subnet netip.Prefix) error {
	rules, err := s.masqRules(subnet)
	if err != nil || len(rules) > 0 {
		return err
	}
	return s.nft(func(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain) {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masqExprs(subnet), UserData: []byte(subnet.String())})
	})
}

// removeMasquerade deletes subnet's masquerade rule.
func (s *Sandbox) removeMasquerade(subnet netip.Prefix) error {
	rules, err := s.masqRules(subnet)
	if err != nil {
		return err
	}
	return s.nft(func(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain) {
		for _, r := range rules {
			_ = c.DelRule(r)
		}
	})
}

// masqRules lists the rules tagged with subnet.
func (s *Sandbox) masqRules(subnet netip.Prefix) ([]*nftables.Rule, error) {
	var out []*nftables.Rule
	var lerr error
	err := s.nft(func(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain) {
		rules, err := c.GetRules(t, ch)
		lerr = err
		for _, r := range rules {
			if string(r.UserData) == subnet.String() {
				out = append(out, r)
			}
		}
	})
	if err == nil {
		err = lerr
	}
	return out, err
}

// masqExprs is `oifname "tap0" ip saddr <subnet> masquerade`.
func masqExprs(subnet netip.Prefix) []expr.Any {
	m := prefixMask(subnet.Bits())
	addr := subnet.Masked().Addr().As4()
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(tapName)},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: m, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr[:]},
		&expr.Masq{},
	}
}

func prefixMask(bits int) []byte {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// isolate drops traffic a bridge forwards anywhere but to itself and
// (unless internal) tap0: networks do not reach each other, as in Docker.
func (s *Sandbox) isolate(bridge string, internal bool) error {
	if err := s.unisolate(bridge); err != nil {
		return err
	}
	return s.nftChains(func(c *nftables.Conn, t *nftables.Table, _, fwd *nftables.Chain) {
		ex := []expr.Any{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(bridge)},
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(bridge)},
		}
		if !internal {
			ex = append(ex, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(tapName)})
		}
		ex = append(ex, &expr.Verdict{Kind: expr.VerdictDrop})
		c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: ex, UserData: []byte("iso:" + bridge)})
	})
}

// unisolate deletes the bridge's isolation rule.
func (s *Sandbox) unisolate(bridge string) error {
	var rules []*nftables.Rule
	var lerr error
	err := s.nftChains(func(c *nftables.Conn, t *nftables.Table, _, fwd *nftables.Chain) {
		all, err := c.GetRules(t, fwd)
		lerr = err
		for _, r := range all {
			if string(r.UserData) == "iso:"+bridge {
				rules = append(rules, r)
			}
		}
		for _, r := range rules {
			_ = c.DelRule(r)
		}
	})
	if err == nil {
		err = lerr
	}
	return err
}

func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}
