package runtime

import (
	"context"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	// nsenter's C constructor joins namespaces in libcontainer's init
	// before the Go runtime starts; it does nothing in other processes.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// InitPathInContainer is where the binary is bind-mounted for --init; the
// name selects the init-reaper mode in Dispatch.
const InitPathInContainer = "/sbin/docker-init"

// Dispatch runs the hidden modes of the engine binary and never returns when
// one is selected: libcontainer's container init ("init" with libcontainer's
// environment), the per-container shim, its seccomp compile helper, and the
// minimal init started as docker-init inside a container. main must call it
// before anything else; in every other case it returns at once.
func Dispatch() {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != "" {
		loadHandedFilter()
		libcontainer.Init() // never returns
	}
	if filepath.Base(os.Args[0]) == filepath.Base(InitPathInContainer) {
		os.Exit(runReaper(os.Args[1:]))
	}
	switch os.Getenv(envMode) {
	case modeShim:
		// The shim is a process of its own: this is its root context.
		mntns := holdMountNS()
		code := runShim(context.Background())
		mntns.Close()
		os.Exit(code)
	case modeFilterCompile:
		os.Exit(runFilterCompile())
	}
}
