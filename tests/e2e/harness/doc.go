// Package harness runs end-to-end tests against a real dockerd-lite.
//
// Each e2e test package calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
//
// Main builds the binary once (or uses $DOCKERD_LITE_BIN), starts one shared
// daemon for the package with its own temporary directories and stops it with
// SIGTERM at the end, failing the run if it does not exit cleanly. When the
// tests run as root (CI), the daemon - and the docker CLI the tests drive -
// run as the unprivileged user dltest-e2e (hack/setup-test-user.sh); when
// they run as an ordinary user, as that user. Where the kernel refuses user
// namespaces, every test that asks for a daemon is skipped with the reason.
//
// Tests get the shared daemon with Shared(t) and drive it through the docker
// CLI (Daemon.Docker), the Go client (Daemon.Client) or raw HTTP
// (Daemon.Curl). When a test fails, the tail of the daemon log is printed.
// NewDaemon starts extra daemons with other flags (TLS, a shared data root).
// StartRegistry and Images provide a loopback registry and the busybox test
// image, since the tests assume no network.
package harness
