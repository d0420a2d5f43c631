//go:build shimembed

package shimbin

import _ "embed"

// Binary is the static shim executable.
//
//go:embed dockerd-lite-shim
var Binary []byte
