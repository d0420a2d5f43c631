// Package shimbin carries the shim binary (cmd/dockerd-lite-shim) inside
// the engine binary when it is built with the shimembed tag, as the
// Makefile does. Without the tag Binary is empty and the engine binary
// itself serves as the shim.
package shimbin
