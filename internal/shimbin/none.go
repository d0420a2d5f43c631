//go:build !shimembed

package shimbin

// Binary is empty: this build serves as its own shim.
var Binary []byte
