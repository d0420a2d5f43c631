// Package stream writes the Engine API's streaming responses: JSON lines
// (events, progress), multiplexed stdio frames and hijacked connections.
// It knows HTTP and wire formats, never the engine's domain types.
package stream
