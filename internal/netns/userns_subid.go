package netns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Default locations of the subordinate id databases (subuid(5), subgid(5)).
const (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// SubIDRange is one subordinate id range: Size ids starting at Start.
type SubIDRange struct {
	Start, Size uint32
}

// subIDEntry is one line of /etc/subuid or /etc/subgid.
type subIDEntry struct {
	Owner string // user name or decimal uid
	SubIDRange
}

// LookupSubIDs returns the ranges that path grants to the user called name
// with the given uid. Lines may name the owner by name or by decimal uid, as
// newuidmap accepts both. A missing file means no ranges, not an error.
func LookupSubIDs(path, name string, uid int) ([]SubIDRange, error) {
	entries, err := readSubIDFile(path)
	if err != nil {
		return nil, err
	}
	uidStr := strconv.Itoa(uid)
	var rs []SubIDRange
	for _, e := range entries {
		if e.Owner == name || e.Owner == uidStr {
			rs = append(rs, e.SubIDRange)
		}
	}
	return rs, nil
}

// SubIDTotal returns the number of ids in rs.
func SubIDTotal(rs []SubIDRange) uint64 {
	var n uint64
	for _, r := range rs {
		n += uint64(r.Size)
	}
	return n
}

// SuggestSubIDLine returns a "name:start:65536" line for path whose range
// does not overlap any range already listed there, for use in fix messages.
func SuggestSubIDLine(path, name string) string {
	start := uint64(100000)
	entries, _ := readSubIDFile(path) // a broken file still gets a suggestion
	for moved := true; moved; {
		moved = false
		for _, e := range entries {
			if end := uint64(e.Start) + uint64(e.Size); end > start && uint64(e.Start) < start+65536 {
				start, moved = end, true
			}
		}
	}
	return fmt.Sprintf("%s:%d:65536", name, start)
}

func readSubIDFile(path string) ([]subIDEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read subordinate ids: %w", err)
	}
	defer f.Close()
	es, err := parseSubIDs(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return es, nil
}

// parseSubIDs parses subuid(5) lines "owner:start:count". Comments and blank
// lines are skipped; a malformed line is an error because newuidmap would
// reject the file too.
func parseSubIDs(r io.Reader) ([]subIDEntry, error) {
	var es []subIDEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseSubIDLine(line)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, sc.Err()
}

func parseSubIDLine(line string) (subIDEntry, error) {
	parts := strings.Split(line, ":")
	if len(parts) != 3 || parts[0] == "" {
		return subIDEntry{}, fmt.Errorf("parse subordinate id line %q: want owner:start:count", line)
	}
	start, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return subIDEntry{}, fmt.Errorf("parse subordinate id line %q: %w", line, err)
	}
	size, err := strconv.ParseUint(parts[2], 10, 32)
	if err != nil {
		return subIDEntry{}, fmt.Errorf("parse subordinate id line %q: %w", line, err)
	}
	return subIDEntry{Owner: parts[0], SubIDRange: SubIDRange{Start: uint32(start), Size: uint32(size)}}, nil
}
