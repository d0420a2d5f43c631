// Package builder runs Dockerfiles the way Docker's classic (non-BuildKit)
// builder does: each instruction is a step on top of the previous image,
// RUN runs a container and commits it, config-only instructions commit an
// empty layer, and a step whose parent, command and config match an
// existing image reuses it ("Using cache").
//
// The package is a leaf: it parses Dockerfiles with BuildKit's parser and
// shell lexer, reads the build context and .dockerignore itself, and asks
// a Backend (implemented by internal/daemon) for every operation on
// images and containers.
package builder
