//go:build !(seccomp && cgo && (amd64 || arm64))

package runtime

import (
	"errors"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// filterCompileSupported: this build cannot precompile seccomp profiles;
// libcontainer compiles them for every exec.
const filterCompileSupported = false

func captureFilter(*configs.Seccomp) (*bpfFilter, error) {
	return nil, errors.New("seccomp precompilation is not supported by this build")
}

func filterToolchain() string { return "" }
