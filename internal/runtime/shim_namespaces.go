package runtime

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// RunRootIn is the run root the daemon gives the runtime inside its exec
// root: one directory per container with the shim's socket.
func RunRootIn(execRoot string) string { return filepath.Join(execRoot, "c") }

// HeldNamespaces are paths to a user and a mount namespace.
type HeldNamespaces struct{ User, Mount string }

// ShimNamespaces returns, for each shim listening under runRoot, the path
// of its user namespace and of the daemon's mount namespace it holds open
// (holdMountNS). The parent joins them to manage what an earlier daemon
// left running. Shims are found by connecting: the kernel names the peer
// (SO_PEERCRED), so a stale socket file never names a process.
func ShimNamespaces(runRoot string) []HeldNamespaces {
	entries, _ := os.ReadDir(runRoot)
	var out []HeldNamespaces
	for _, e := range entries {
		pid, ok := shimPID(filepath.Join(runRoot, e.Name(), sockName))
		if !ok {
			continue
		}
		if mnt := heldMountNS(pid); mnt != "" {
			out = append(out, HeldNamespaces{User: fmt.Sprintf("/proc/%d/ns/user", pid), Mount: mnt})
		}
	}
	return out
}

// holdMountNS opens the shim's mount namespace, the daemon's, while the
// shim is still single-minded: libcontainer's mount-source helper may
// later leave the shim's main thread, and so /proc/<pid>/ns/mnt, in the
// container's mount namespace.
func holdMountNS() *os.File {
	f, _ := os.Open("/proc/self/ns/mnt")
	return f
}

// heldMountNS finds the descriptor holdMountNS opened in process pid.
func heldMountNS(pid int) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join(dir, e.Name())); strings.HasPrefix(target, "mnt:[") {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

func shimPID(sock string) (int, bool) {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return 0, false
	}
	defer conn.Close()
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, false
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil || err != nil || cred.Pid <= 0 {
		return 0, false
	}
	return int(cred.Pid), true
}
