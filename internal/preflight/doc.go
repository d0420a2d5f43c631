// Package preflight checks what a rootless dockerd-lite needs from the host:
// user namespaces, subordinate id ranges, the newuidmap/newgidmap helpers,
// slirp4netns, /dev/net/tun, native overlay in a user namespace and the
// cgroups the daemon may write (v2 delegation, or v1 hierarchies made
// writable for the user; Cgroups returns the details the daemon uses to
// place containers and set limits). Each Finding says OK, WARN or FAIL, what it saw and, when not
// OK, the exact fix. Only what stops the daemon from running at all FAILs.
//
// `dockerd-lite check` prints the report with Print; the daemon logs the same
// findings at start with Log. Run is fast (tens of milliseconds): the one
// slow-ish step, the overlay probe, re-executes the binary into a throw-away
// user namespace through netns.Dispatch, concurrently with the other checks.
//
// Run works on the host and inside the daemon's user namespace; inside, the
// host user is the one the namespace maps uid 0 to (netns.ParentEUIDEnv when
// set), so the report describes the same user in both places.
package preflight
