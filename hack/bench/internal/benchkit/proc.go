package benchkit

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
