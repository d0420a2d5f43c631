package netns

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testTargetEnv makes the test binary act as the daemon started by Run.
const testTargetEnv = "NETNS_TEST_TARGET"

func TestMain(m *testing.M) {
	Dispatch()
	if os.Getenv(testTargetEnv) != "" {
		os.Exit(runTestTarget())
	}
	os.Exit(m.Run())
}

// targetReport is what the test target sees of itself.
type targetReport struct {
	EUID, EGID  int
	UIDMap      string
	GIDMap      string
	Setgroups   string
	Groups      []int
	ListenFDs   string
	ListenPIDOK bool
	Fd3IsSocket bool
	Fds         map[int]string // fds >= 4 at startup, by readlink target
	Extra       string
	PrivateEnv  []string
	ParentEUID  string
	HasSysAdmin bool
	UserNS      string // readlink of /proc/self/ns/user
	MntNS       string
}

// runTestTarget reports over the listener at fd 3, then waits for a signal
// if asked to. Its exit status encodes the signal: TERM 42, HUP 43, INT 44.
func runTestTarget() int {
	rep := targetReport{Fds: openFds(), EUID: os.Geteuid(), EGID: os.Getegid()}
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	fillReport(&rep)
	if err := serveReport(rep); err != nil {
		fmt.Fprintln(os.Stderr, "test target:", err)
		return 3
	}
	if os.Getenv(testTargetEnv) != "wait-signal" {
		return 0
	}
	select {
	case s := <-sigc:
		return map[os.Signal]int{syscall.SIGTERM: 42, syscall.SIGHUP: 43, syscall.SIGINT: 44}[s]
	case <-time.After(30 * time.Second):
		return 4
	}
}

func fillReport(rep *targetReport) {
	uidMap, _ := os.ReadFile("/proc/self/uid_map")
	gidMap, _ := os.ReadFile("/proc/self/gid_map")
	setgroups, _ := os.ReadFile("/proc/self/setgroups")
	rep.UIDMap, rep.GIDMap = string(uidMap), string(gidMap)
	rep.Setgroups = strings.TrimSpace(string(setgroups))
	rep.Groups, _ = os.Getgroups()
	rep.ListenFDs = os.Getenv("LISTEN_FDS")
	rep.ListenPIDOK = os.Getenv("LISTEN_PID") == "" || os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid())
	var st unix.Stat_t
	rep.Fd3IsSocket = unix.Fstat(3, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
	rep.Extra = os.Getenv("NETNS_TEST_EXTRA")
	rep.ParentEUID = os.Getenv(ParentEUIDEnv)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "_DOCKERD_LITE_") || strings.HasPrefix(kv, "_ROOTLESSKIT_") {
			rep.PrivateEnv = append(rep.PrivateEnv, kv)
		}
	}
	rep.UserNS, _ = os.Readlink("/proc/self/ns/user")
	rep.MntNS, _ = os.Readlink("/proc/self/ns/mnt")
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) == nil {
		rep.HasSysAdmin = data[0].Effective&(1<<unix.CAP_SYS_ADMIN) != 0
	}
}

func openFds() map[int]string {
	fds := map[int]string{}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		if fd >= 4 {
			fds[fd], _ = os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		}
	}
	return fds
}

func serveReport(rep targetReport) error {
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return err
	}
	defer l.Close()
	conn, err := l.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	return json.NewEncoder(conn).Encode(rep)
}
