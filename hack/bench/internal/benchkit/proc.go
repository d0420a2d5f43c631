package benchkit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dockerd-lite/dockerd-lite/tests/daemon"
)

// KiBField returns a "NNN kB" field of /proc/PID/status (VmRSS, VmHWM) in KiB.
func KiBField(pid int, field string) (int, error) {
	v, err := daemon.StatusField(pid, field)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "kB")))
}

// ResetPeak resets the VmHWM of pid to its current RSS (clear_refs 5);
// the caller needs ptrace access to pid (root, or the same user).
func ResetPeak(pid int) error {
	return os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0)
}

// Comm returns the command name of pid ("?" when gone).
func Comm(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// ProcsWithEnv returns the pids of uid's processes whose environment holds
// the exact entry kv ("KEY=value").
func ProcsWithEnv(uid int, kv string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ids, err := daemon.UIDs(pid); err != nil || ids[0] != uid {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if string(v) == kv {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// PSS returns the proportional set size of pid in KiB.
func PSS(pid int) (int, error) { return daemon.PSSKiB(pid) }

// CPUTime returns the user and system CPU time pid has used (from
// /proc/PID/stat, in clock ticks of 10 ms).
func CPUTime(pid int) (user, sys time.Duration, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the parenthesised comm: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("parse stat of %d: too few fields", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u) * 10 * time.Millisecond, time.Duration(s) * 10 * time.Millisecond, nil
}

// TreeCPU sums CPUTime over pids, skipping those that are gone.
func TreeCPU(pids []int) (user, sys time.Duration) {
	for _, p := range pids {
		if u, s, err := CPUTime(p); err == nil {
			user, sys = user+u, sys+s
		}
	}
	return user, sys
}
