// Package volume keeps named volumes (the local driver) under
// <data-root>/volumes/<name>/_data with their metadata beside it, counts
// the containers that reference and mount them, and parses the mount
// requests of a container (Binds, HostConfig.Mounts, Tmpfs) into Specs.
//
// It is a leaf package: the daemon decides which container holds which
// reference and turns Specs into runtime mounts.
package volume
