package netns

import (
	"errors"
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The return path of connections the sandbox dials from a client's own
// address (an IP_TRANSPARENT socket bound to an address that is not the
// sandbox's): replies to such a socket are marked in prerouting and routed
// to the sandbox itself instead of out of tap0.
const (
	tproxyMark     = 0x646c // "dl"
	tproxyTable    = 0x646c
	tproxyPriority = 100 // before the main table (32766)
	tproxyTag      = "tproxy"
)

// ensureTransparent installs, idempotently, the policy route (fwmark ->
// table with a local default route) and the nftables rule
// `socket transparent 1 meta mark set <mark>` in a prerouting chain.
func (s *Sandbox) ensureTransparent() error {
	err := s.withHandle(func(h *netlink.Handle) error {
		if err := ensureTproxyRule(h); err != nil {
			return err
		}
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		_, all, _ := net.ParseCIDR("0.0.0.0/0")
		return h.RouteReplace(&netlink.Route{Table: tproxyTable, Type: unix.RTN_LOCAL, Dst: all,
			LinkIndex: lo.Attrs().Index, Scope: netlink.SCOPE_HOST})
	})
	if err != nil {
		return fmt.Errorf("route replies to transparent sockets: %w", err)
	}
	return s.ensureTproxyMark()
}

func ensureTproxyRule(h *netlink.Handle) error {
	rules, err := h.RuleList(netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.Mark == tproxyMark && r.Table == tproxyTable {
			return nil
		}
	}
	r := netlink.NewRule()
	r.Family, r.Mark, r.Table, r.Priority = netlink.FAMILY_V4, tproxyMark, tproxyTable, tproxyPriority
	if err := h.RuleAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}

// ensureTproxyMark adds the marking rule unless it is there.
func (s *Sandbox) ensureTproxyMark() error {
	if err := s.nftDeclare(); err != nil {
		return err
	}
	return inNetNS(s.path, func() error {
		c, err := nftables.New()
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		t := nftTable()
		ch := &nftables.Chain{Name: "prerouting", Table: t}
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		for _, r := range rules {
			if string(r.UserData) == tproxyTag {
				return nil
			}
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: tproxyMarkExprs(), UserData: []byte(tproxyTag)})
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables socket match (CONFIG_NFT_SOCKET): %w", err)
		}
		return nil
	})
}

// tproxyMarkExprs is `socket transparent 1 meta mark set <mark>`.
func tproxyMarkExprs() []expr.Any {
	return []expr.Any{
		&expr.Socket{Key: expr.SocketKeyTransparent, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{1}},
		&expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint32(tproxyMark)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1},
	}
}
