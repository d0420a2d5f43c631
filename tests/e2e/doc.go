// Package e2e holds the end-to-end tests: the real dockerd-lite binary,
// started by tests/e2e/harness as an unprivileged user, driven by the docker
// CLI, the Go client and raw HTTP over its socket.
//
// Run with: go test -tags exclude_graphdriver_btrfs -count=1 ./tests/e2e/...
// (as root, first run hack/setup-test-user.sh).
package e2e
