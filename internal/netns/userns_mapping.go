package netns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// IDRange is one line of a uid_map or gid_map: Size ids starting at
// ContainerID inside the namespace are HostID.. in the parent namespace.
type IDRange struct {
	ContainerID, HostID, Size uint32
}

// Mapping describes the uid and gid maps of the current process.
type Mapping struct {
	UIDs, GIDs []IDRange
	// InUserNS is false when the maps are the initial namespace's identity
	// map (0 0 4294967295).
	InUserNS bool
}

// CurrentMapping reads /proc/self/uid_map and /proc/self/gid_map.
func CurrentMapping() (Mapping, error) {
	uids, err := readIDMap("/proc/self/uid_map")
	if err != nil {
		return Mapping{}, err
	}
	gids, err := readIDMap("/proc/self/gid_map")
	if err != nil {
		return Mapping{}, err
	}
	return Mapping{UIDs: uids, GIDs: gids, InUserNS: !isIdentity(uids)}, nil
}

// Single reports a single-id mapping (the degraded fallback): exactly one uid
// and one gid exist in the namespace.
func (m Mapping) Single() bool {
	return total(m.UIDs) == 1 && total(m.GIDs) == 1
}

// HostUID returns the host uid that container uid 0 maps to, and false when
// uid 0 is not mapped.
func (m Mapping) HostUID() (uint32, bool) { return toHost(m.UIDs, 0) }

// HostGID returns the host gid that container gid 0 maps to, and false when
// gid 0 is not mapped.
func (m Mapping) HostGID() (uint32, bool) { return toHost(m.GIDs, 0) }

// String renders the uid map compactly, e.g. "0->1000(1) 1->100000(65536)".
func (m Mapping) String() string {
	parts := make([]string, 0, len(m.UIDs))
	for _, r := range m.UIDs {
		parts = append(parts, fmt.Sprintf("%d->%d(%d)", r.ContainerID, r.HostID, r.Size))
	}
	return strings.Join(parts, " ")
}

func toHost(rs []IDRange, id uint32) (uint32, bool) {
	for _, r := range rs {
		if id >= r.ContainerID && id-r.ContainerID < r.Size {
			return r.HostID + (id - r.ContainerID), true
		}
	}
	return 0, false
}

func total(rs []IDRange) uint64 {
	var n uint64
	for _, r := range rs {
		n += uint64(r.Size)
	}
	return n
}

func isIdentity(rs []IDRange) bool {
	return len(rs) == 1 && rs[0].ContainerID == 0 && rs[0].HostID == 0 && rs[0].Size == ^uint32(0)
}

func readIDMap(path string) ([]IDRange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read id map: %w", err)
	}
	defer f.Close()
	rs, err := parseIDMap(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return rs, nil
}

// parseIDMap parses the /proc/<pid>/{uid,gid}_map format: lines of three
// whitespace-separated decimal numbers.
func parseIDMap(r io.Reader) ([]IDRange, error) {
	var rs []IDRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("parse id map line %q: want 3 fields", sc.Text())
		}
		var v [3]uint32
		for i, f := range fields {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parse id map line %q: %w", sc.Text(), err)
			}
			v[i] = uint32(n)
		}
		rs = append(rs, IDRange{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return rs, sc.Err()
}
