// Package benchkit holds what the programs under hack/bench share: the
// daemon binary to measure, medians, the figure table every program ends
// with, the docker CLI run as the daemon's user, and per-process memory
// readings from /proc. It asserts nothing; the programs print figures.
package benchkit
