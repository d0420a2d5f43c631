// Command dockerd-lite-shim is the per-container shim and container init of
// dockerd-lite, built on its own so that the processes that stay with every
// container carry only the runtime's code. The engine binary embeds it
// (internal/shimbin) and starts it from a sealed in-memory copy; it is not
// meant to be run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

func main() {
	runtime.Dispatch() // shim, container init and helper roles never return
	fmt.Fprintln(os.Stderr, "dockerd-lite-shim: started by dockerd-lite only")
	os.Exit(2)
}
