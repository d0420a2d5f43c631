package preflight

import (
	"fmt"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/internal/netns"
)

// checkSubIDs looks at the ranges Run will map. Root mode cannot start
// without one, so a missing root range FAILs; a rootless user without one
// still gets a (degraded) daemon, so that only WARNs.
func (h env) checkSubIDs() Finding {
	f := Finding{Name: "subordinate ids"}
	uids, uerr := netns.LookupSubIDs(h.subUID, h.id.name, h.id.uid)
	gids, gerr := netns.LookupSubIDs(h.subGID, h.id.name, h.id.uid)
	nu, ng := netns.SubIDTotal(uids), netns.SubIDTotal(gids)
	add := fmt.Sprintf("add %q to %s and %q to %s", netns.SuggestSubIDLine(h.subUID, h.id.name), h.subUID,
		netns.SuggestSubIDLine(h.subGID, h.id.name), h.subGID)
	switch {
	case uerr != nil || gerr != nil:
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("cannot read the ranges: %v", firstErr(uerr, gerr)), "fix the file's syntax: one owner:start:count per line"
	case (nu == 0 || ng == 0) && h.id.root:
		f.Status, f.Detail, f.Fix = Fail, "root has no subordinate range; root mode needs one so containers never hold host root", add
	case nu == 0 || ng == 0:
		f.Status, f.Detail, f.Fix = Warn, fmt.Sprintf("none for %s: the daemon falls back to a single-id namespace", h.id.name), add
	case nu < 65536 || ng < 65536:
		f.Status, f.Detail = Warn, fmt.Sprintf("%s has only %d uids and %d gids; images using higher ids fail", h.id.name, nu, ng)
		f.Fix = "grow the ranges to 65536: " + add
	default:
		f.Status, f.Detail = OK, fmt.Sprintf("%s: uids %s, gids %s", h.id.name, formatRanges(uids), formatRanges(gids))
	}
	return f
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func formatRanges(rs []netns.SubIDRange) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%d-%d", r.Start, uint64(r.Start)+uint64(r.Size)-1))
	}
	return strings.Join(parts, ",")
}

func (h env) checkIDMapHelpers() Finding {
	f := Finding{Name: "newuidmap/newgidmap"}
	if h.id.root {
		f.Status, f.Detail = OK, "not needed in root mode (root writes the maps itself)"
		return f
	}
	var found, problems []string
	for _, name := range []string{"newuidmap", "newgidmap"} {
		path, err := netns.IDMapHelper(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		found = append(found, path)
	}
	if len(problems) > 0 {
		f.Status, f.Detail = Warn, strings.Join(problems, "; ")+": the daemon falls back to a single-id namespace"
		f.Fix = "apt-get install uidmap (newuidmap/newgidmap must be setuid root or have file capabilities)"
		return f
	}
	f.Status, f.Detail = OK, strings.Join(found, ", ")
	return f
}

func (h env) rootMode() Finding {
	f := Finding{Name: "root mode", Status: OK, Detail: "containers map to root's subordinate range, never to host root"}
	if uids, _ := netns.LookupSubIDs(h.subUID, "root", 0); len(uids) > 0 {
		f.Detail += " (" + formatRanges(uids) + ")"
	}
	return f
}
