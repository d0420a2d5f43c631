package netns

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mode is how Run builds the user namespace.
type mode int

const (
	modeRootlessKit mode = iota // rootless, subordinate ranges via newuidmap
	modeSingle                  // rootless, degraded single-id mapping
	modeRoot                    // host root, root's subordinate range
	modeJoin                    // the namespaces of an earlier run (join.go)
)

func (m mode) String() string {
	switch m {
	case modeRootlessKit:
		return "rootlesskit"
	case modeSingle:
		return "single-id"
	case modeJoin:
		return "join"
	default:
		return "root"
	}
}

// plan is the decision Run acts on; tests build one directly to force a mode.
type plan struct {
	mode       mode
	uids, gids []IDRange // maps written for modeSingle and modeRoot
	reason     string    // modeSingle: what is missing
	fix        string    // modeSingle: how to get the full mapping
}

// system is what the plan depends on, gathered once so tests can vary it.
type system struct {
	euid, egid     int
	name           string // user name of euid, or its decimal uid
	subUID, subGID string
	idmapHelper    func(name string) (string, error)
}

func hostSystem() (system, error) {
	sys := system{euid: os.Geteuid(), egid: os.Getegid(), subUID: SubUIDFile, subGID: SubGIDFile, idmapHelper: IDMapHelper}
	sys.name = strconv.Itoa(sys.euid)
	if u, err := user.LookupId(sys.name); err == nil {
		sys.name = u.Username
	}
	return sys, nil
}

func makePlan(sys system) (plan, error) {
	if sys.euid == 0 {
		return rootPlan(sys)
	}
	return rootlessPlan(sys), nil
}

// rootPlan maps 0..65535 to root's subordinate range. Running the daemon as
// host root (or with an identity mapping) would give containers host root.
func rootPlan(sys system) (plan, error) {
	uidR, err := LookupSubIDs(sys.subUID, "root", 0)
	if err != nil {
		return plan{}, err
	}
	gidR, err := LookupSubIDs(sys.subGID, "root", 0)
	if err != nil {
		return plan{}, err
	}
	if SubIDTotal(uidR) == 0 || SubIDTotal(gidR) == 0 {
		return plan{}, fmt.Errorf("plan root mode: root has no subordinate id range, and containers must never hold host root: "+
			"add %q to %s and %q to %s", SuggestSubIDLine(sys.subUID, "root"), sys.subUID,
			SuggestSubIDLine(sys.subGID, "root"), sys.subGID)
	}
	return plan{mode: modeRoot, uids: spread(uidR, 65536), gids: spread(gidR, 65536)}, nil
}

// spread lays subordinate ranges out from container id 0, at most limit ids.
func spread(rs []SubIDRange, limit uint32) []IDRange {
	var out []IDRange
	next := uint32(0)
	for _, r := range rs {
		size := min(r.Size, limit-next)
		if size == 0 {
			break
		}
		out = append(out, IDRange{ContainerID: next, HostID: r.Start, Size: size})
		next += size
	}
	return out
}

func rootlessPlan(sys system) plan {
	var reasons, fixes []string
	uidR, uerr := LookupSubIDs(sys.subUID, sys.name, sys.euid)
	gidR, gerr := LookupSubIDs(sys.subGID, sys.name, sys.euid)
	if uerr != nil || gerr != nil || SubIDTotal(uidR) == 0 || SubIDTotal(gidR) == 0 {
		reasons = append(reasons, fmt.Sprintf("no subordinate id range for %s in %s and %s", sys.name, sys.subUID, sys.subGID))
		fixes = append(fixes, fmt.Sprintf("add %q to %s and %s", SuggestSubIDLine(sys.subUID, sys.name), sys.subUID, sys.subGID))
	}
	for _, helper := range []string{"newuidmap", "newgidmap"} {
		if _, err := sys.idmapHelper(helper); err != nil {
			reasons = append(reasons, err.Error())
			fixes = append(fixes, "apt-get install uidmap")
			break
		}
	}
	if len(reasons) == 0 {
		return plan{mode: modeRootlessKit}
	}
	return plan{
		mode:   modeSingle,
		uids:   []IDRange{{ContainerID: 0, HostID: uint32(sys.euid), Size: 1}},
		gids:   []IDRange{{ContainerID: 0, HostID: uint32(sys.egid), Size: 1}},
		reason: strings.Join(reasons, "; "),
		fix:    strings.Join(fixes, ", "),
	}
}

// IDMapHelper finds newuidmap or newgidmap (name) in PATH and checks that it
// can do its job: it must be setuid root or carry file capabilities.
func IDMapHelper(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found", name)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", name, err)
	}
	if st.Mode()&os.ModeSetuid != 0 {
		return path, nil
	}
	if n, err := unix.Getxattr(path, "security.capability", nil); err == nil && n > 0 {
		return path, nil
	}
	return "", fmt.Errorf("%s is neither setuid nor has file capabilities", path)
}
