// Package runtime turns an OCI runtime-spec into running, isolated processes.
// It is the only importer of github.com/opencontainers/runc/libcontainer.
//
// Every container runs under its own shim: a re-execution of the engine binary
// (see Dispatch) that creates the container with libcontainer, holds its stdio
// or pty, writes the json-file log, records the exit status to a file and
// serves a unix socket in the run root. The daemon talks to shims only through
// that socket and the files in the state directory, so a restarted daemon
// re-adopts running containers with Restore (live restore).
//
// The daemon runs as root inside a user namespace. Cgroups are managed in
// libcontainer's rootless mode: a hierarchy that is not writable is skipped
// rather than failing the container. The daemon sets limits (spec
// Linux.Resources) only for controllers it found writable, and reads stats,
// freezes and updates through CgroupStats, Freeze, Thaw and
// UpdateResources, which answer ErrNoCgroup when the container has no
// cgroup for that. NewSpec builds Docker's default isolation.
//
// Execs of a container with Docker's default seccomp profile do not compile
// it again: the shim has libcontainer's program captured once by a helper
// process, caches it in the run root and hands it to each exec's init in a
// sealed memfd (seccomp_*.go).
package runtime
