// Package daemon implements the API's backend interfaces. It owns the
// daemon-wide state (configuration, identity, event bus) and orchestrates
// the domain packages (image store, containers, runtime, networks, volumes).
package daemon
