// Package netns owns the namespaces dockerd-lite runs in.
//
// This part of the package (the userns*.go files) bootstraps the daemon's
// user namespace. An ordinary user starts dockerd-lite on the host; Run then
// starts the real daemon as uid 0 inside a new user namespace and a new mount
// namespace, still in the host network namespace. Three ways are chosen
// automatically:
//
//   - rootless with a subordinate id range: RootlessKit (pkg/parent, pkg/child)
//     maps 0 to the user's uid and 1..N to the user's /etc/subuid and
//     /etc/subgid ranges through the setuid newuidmap/newgidmap helpers;
//   - rootless without a range or without newuidmap: a degraded single-id
//     namespace (0 -> uid, 0 -> gid, setgroups denied) set up directly with
//     clone(2); one warning says what is lost and how to fix it;
//   - host root: RootlessKit is not used (it does not support root); the
//     namespace maps 0..65535 to root's own subordinate range so containers
//     never hold host root.
//
// Listeners created by the caller reach the daemon as file descriptors 3, 4,
// ... with LISTEN_FDS set, as with systemd socket activation. Through
// RootlessKit this uses its socket-activation helper, which is why a small
// "parent helper" process sits between the caller and RootlessKit: RootlessKit
// takes the listeners from descriptors 3.. of the process that calls
// parent.Parent, and only a freshly started process can have them there.
//
// The helper processes are re-executions of the same binary; Dispatch, called
// first in main, recognises them. Dispatch also runs the throw-away overlay
// probe used by ProbeOverlay.
//
// The sandbox*.go, ipam.go and ports*.go files hold the daemon's container
// networking: one sandbox network namespace with a Linux bridge per Docker
// network, slirp4netns for outbound traffic, nftables masquerading, one
// namespace per container joined by a veth pair, address pools, and
// published ports forwarded from the host namespace into the sandbox.
package netns
