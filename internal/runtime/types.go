package runtime

import (
	"io"
	"time"
)

// Opt configures a Runtime.
type Opt struct {
	// RunRoot holds shim sockets, libcontainer state and the compiled
	// seccomp programs of execs (seccomp-bpf/); it should be on a tmpfs
	// such as $XDG_RUNTIME_DIR/dockerd-lite/containers.
	RunRoot string
	// StateRoot holds per-container files that must survive a reboot of the
	// daemon: the spec, the exit status and, by default, the log.
	StateRoot string
	// Executable is the engine binary started as the shim; it must call
	// Dispatch first thing in main. Empty means /proc/self/exe resolved.
	Executable string
}

// IOOpt says how a container's stdio is wired.
type IOOpt struct {
	// Tty allocates a pty; stdout and stderr are then one stream.
	Tty bool
	// OpenStdin keeps a stdin pipe open that attach clients write into.
	OpenStdin bool
	// LogPath is the json-file log; empty means container.log in the
	// container's state directory.
	LogPath string
	// LogMaxSize rotates the log when it would grow beyond this many bytes
	// (0: never).
	LogMaxSize int64
	// LogMaxFiles is how many files, the live one included, rotation keeps
	// (values below 1 mean 1).
	LogMaxFiles int
}

// ExitStatus is how a container's main process or an exec ended.
type ExitStatus struct {
	// ExitCode is the process's code, or 128+n when signal n killed it.
	ExitCode int `json:"exitCode"`
	// Signal is the signal that killed the process, 0 if it exited.
	Signal int `json:"signal,omitempty"`
	// OOMKilled is set when the kernel reported an OOM kill (only known
	// where cgroups are available).
	OOMKilled bool `json:"oomKilled,omitempty"`
	// FinishedAt is when the shim saw the process end.
	FinishedAt time.Time `json:"finishedAt"`
	// Error is set when the process could not run or the shim died.
	Error string `json:"error,omitempty"`
}

// Container statuses reported in State.Status.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// State is a container's state as the shim or its files report it.
type State struct {
	// Status is StatusCreated, StatusRunning or StatusStopped.
	Status string `json:"status"`
	// Running is Status == StatusRunning.
	Running bool `json:"running"`
	// Pid is the init process's pid in the daemon's pid namespace (0 once
	// stopped).
	Pid int `json:"pid,omitempty"`
	// StartedAt is when Start ran the process.
	StartedAt time.Time `json:"startedAt,omitzero"`
	// Exit is set once the container stopped.
	Exit *ExitStatus `json:"exit,omitempty"`
}

// AttachOpt selects the streams of an attach. A nil writer or reader leaves
// that stream out.
type AttachOpt struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// CloseStdin closes the container's stdin when Stdin reaches EOF
	// (Docker's StdinOnce).
	CloseStdin bool
	// Ready, when set, is called once the shim streams to this attach: from
	// then on no output is missed (docker run attaches before it starts).
	Ready func()
}

// ExecOpt wires an exec's stdio. With Tty set, stderr is merged into stdout.
type ExecOpt struct {
	Tty    bool
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Started, when set, is called with the exec's pid once it runs.
	Started func(pid int)
}
