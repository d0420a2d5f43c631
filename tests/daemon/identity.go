package daemon

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// TestUser is the account the daemon runs as when the caller is root. It is
// created, with /etc/subuid and /etc/subgid ranges, by hack/setup-test-user.sh.
const TestUser = "dltest-e2e"

// Identity is the host user a daemon runs as.
type Identity struct {
	// Name is the login name.
	Name string
	// UID and GID are host ids.
	UID, GID int
	// Switch is true when the caller is root and the daemon must be started
	// with these credentials (and its files chowned to them).
	Switch bool
}

// CurrentIdentity returns the identity daemons should run as: TestUser when
// the caller is root, otherwise the caller. The error for a missing TestUser
// says how to create it.
func CurrentIdentity() (Identity, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return Identity{}, fmt.Errorf("look up current user: %w", err)
		}
		return Identity{Name: u.Username, UID: os.Getuid(), GID: os.Getgid()}, nil
	}
	u, err := user.Lookup(TestUser)
	if err != nil {
		return Identity{}, fmt.Errorf("look up test user %s: %w (running as root: create it with hack/setup-test-user.sh)", TestUser, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return Identity{}, fmt.Errorf("parse uid of %s: %w", TestUser, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return Identity{}, fmt.Errorf("parse gid of %s: %w", TestUser, err)
	}
	return Identity{Name: u.Username, UID: uid, GID: gid, Switch: true}, nil
}

// Credential returns the credential for exec.Cmd's SysProcAttr, or nil when
// no switch is needed.
func (id Identity) Credential() *syscall.Credential {
	if !id.Switch {
		return nil
	}
	return &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID), Groups: []uint32{}}
}

// Chown hands paths to the identity; it does nothing without a switch.
func (id Identity) Chown(paths ...string) error {
	if !id.Switch {
		return nil
	}
	for _, p := range paths {
		if err := os.Lchown(p, id.UID, id.GID); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
	}
	return nil
}

// WriteFile writes data to path with perm and hands it to the identity, so
// the daemon can read files the test prepares (TLS keys, config files).
func (id Identity) WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create dir for %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return id.Chown(path)
}
