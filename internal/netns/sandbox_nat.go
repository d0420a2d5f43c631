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
	return inNetNS(s.path, func() error {
		c, err := nftables.New() // sockets of this thread: the sandbox's
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: natTable})
		policy := nftables.ChainPolicyAccept
		ch := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &policy})
		fn(c, t, ch)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		return nil
	})
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
		if err := c.Flush(); err != nil { // the table and chain exist from here on
			lerr = err
			return
		}
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
	ifname := make([]byte, unix.IFNAMSIZ)
	copy(ifname, tapName)
	m := prefixMask(subnet.Bits())
	addr := subnet.Masked().Addr().As4()
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname},
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
