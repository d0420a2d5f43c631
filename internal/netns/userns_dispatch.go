package netns

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/containerd/log"
)

// Private environment keys that tell a re-executed binary its job.
const (
	helperEnv          = "_DOCKERD_LITE_NETNS_HELPER"
	configEnv          = "_DOCKERD_LITE_NETNS_CONFIG"
	helperParent       = "rootlesskit-parent"
	helperOverlayProbe = "overlay-probe"
)

// Dispatch must be called first thing in main(). If this process is one of
// the helpers this package re-executes (RootlessKit's parent or child, its
// socket-activation helper, or the overlay probe), Dispatch does that job and
// never returns: it calls os.Exit, passing the daemon's exit status through.
// Otherwise it returns at once.
func Dispatch() {
	if _, joined := os.LookupEnv(joinEnv); joined {
		reexecJoined()
	}
	switch {
	case os.Getenv(rkPipeFDEnv) != "":
		exitWith("rootlesskit child", runChild())
	case isTrue(os.Getenv(rkActivationHelperEnv)):
		exitWith("activation helper", runActivationHelper())
	}
	switch os.Getenv(helperEnv) {
	case helperParent:
		exitWith("rootlesskit parent", runParentHelper())
	case helperOverlayProbe:
		exitWith("overlay probe", runOverlayProbe())
	}
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

// exitWith ends a helper process. The exit status of the process below it
// (RootlessKit reports it as the error itself or wrapped once, e.g. "child
// exited: %w") is passed through; any other error is reported on stderr.
func exitWith(role string, err error) {
	if err == nil {
		os.Exit(0)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && (error(ee) == err || errors.Unwrap(err) == error(ee)) {
		code, _ := exitCode(err)
		log.L.WithError(err).Debugf("netns %s: passing the exit status on", role)
		os.Exit(code)
	}
	log.L.WithError(err).Errorf("netns %s failed", role)
	os.Exit(1)
}

// exitCode returns the status a helper should exit with to mirror the
// process below it: its exit status, or 128+n if it died of signal n.
func exitCode(err error) (int, bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok {
		return ee.ExitCode(), true
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), true
	}
	return ws.ExitStatus(), true
}
