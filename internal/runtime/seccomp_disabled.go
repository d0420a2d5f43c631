//go:build !seccomp

package runtime

// SeccompSupported reports whether libcontainer was built with seccomp
// (build tag "seccomp", cgo and libseccomp); without it NewSpec refuses
// any seccomp profile other than "unconfined".
const SeccompSupported = false
