package daemon

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Descendants returns the pids of every live descendant of pid (children,
// grandchildren, ...), found by scanning /proc, in ascending order.
func Descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, err := parentPID(p); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range children[cur] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	sort.Ints(out)
	return out
}

// Tree returns pid followed by its live descendants.
func Tree(pid int) []int { return append([]int{pid}, Descendants(pid)...) }

func parentPID(pid int) (int, error) {
	v, err := StatusField(pid, "PPid")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// StatusField returns the value of one field of /proc/PID/status
// ("Uid" -> "1001\t1001\t1001\t1001").
func StatusField(pid int, field string) (string, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == field {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read status of %d: %w", pid, err)
	}
	return "", fmt.Errorf("read status of %d: no field %s", pid, field)
}

// UIDs returns the real, effective, saved and filesystem uid of pid as
// seen from the caller's user namespace.
func UIDs(pid int) ([]int, error) {
	v, err := StatusField(pid, "Uid")
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, f := range strings.Fields(v) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse uid of %d: %w", pid, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// RSSKiB returns the resident set size (VmRSS) of pid in KiB.
func RSSKiB(pid int) (int, error) {
	v, err := StatusField(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.Atoi(strings.TrimSuffix(v, " kB"))
	if err != nil {
		return 0, fmt.Errorf("parse VmRSS of %d: %w", pid, err)
	}
	return kb, nil
}

// Cmdline returns the command line of pid with arguments separated by spaces.
func Cmdline(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// PSSKiB returns the proportional set size of pid in KiB (from
// /proc/PID/smaps_rollup): shared pages - the same binary mapped by every
// process of the tree - are divided among their users, so PSS values add up.
func PSSKiB(pid int) (int, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("read smaps_rollup of %d: no Pss", pid)
}

// KillShims kills (SIGKILL) the shims whose state lives under dataRoot,
// with their containers: they outlive their daemon by design, so a test
// or bench that removes the daemon's directories must end them first.
func KillShims(dataRoot string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !strings.HasPrefix(Cmdline(pid), "dockerd-lite-shim") {
			continue
		}
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if !strings.Contains(string(env), "_DOCKERD_LITE_STATE="+filepath.Join(dataRoot, "runtime")+"/") {
			continue
		}
		for _, p := range Tree(pid) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
}
