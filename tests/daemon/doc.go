// Package daemon starts and stops a real dockerd-lite process for tests and
// benchmarks. It knows nothing about package testing, so both the e2e
// harness (tests/e2e/harness) and hack/bench/startup use it.
//
// The daemon always runs as an unprivileged user: the current user, or, when
// the caller is root (as in CI), the dedicated test user TestUser created by
// hack/setup-test-user.sh. Every daemon gets its own temporary HOME,
// XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME, data root and exec root,
// owned by that user. Readiness is detected by polling GET /_ping, never by
// sleeping a fixed time.
package daemon
