// Command dockerd-lite is a rootless Docker Engine API daemon.
//
// One binary plays several roles, chosen at start (see mode below): the
// parent on the host (flags, preflight, lock, listeners, user namespace),
// the daemon inside the user namespace, and the helpers the libraries
// re-execute (rootlesskit's child, the overlay probe).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/log"
	"github.com/spf13/cobra"

	"github.com/dockerd-lite/dockerd-lite/internal/config"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
	"github.com/dockerd-lite/dockerd-lite/internal/version"
)

func main() {
	runtime.Dispatch() // container init, shim and docker-init roles never return
	netns.Dispatch()   // user namespace helper roles never return
	if h, ok := readHandoff(); ok {
		os.Exit(runDaemon(h))
	}
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dockerd-lite:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	var cfg config.Config
	fs := cfg.Flags()
	root := &cobra.Command{
		Use:           "dockerd-lite [flags]",
		Short:         "A rootless, single-binary Docker Engine API daemon",
		Version:       fmt.Sprintf("%s, build %s", version.Version, version.GitCommit),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Load(fs, config.CurrentEnv()); err != nil {
				return err
			}
			// Signals are forwarded to the daemon by netns.Run, once.
			return runParent(context.Background(), cfg)
		},
	}
	root.Flags().AddFlagSet(fs)
	root.AddCommand(newCheckCommand())
	return root
}

func newCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Report whether this host can run rootless containers, and how to fix what is missing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			findings := preflight.Run(cmd.Context())
			preflight.Print(cmd.OutOrStdout(), findings)
			for _, f := range findings {
				if f.Status == preflight.Fail {
					return fmt.Errorf("%s: %s", f.Name, f.Detail)
				}
			}
			return nil
		},
	}
}

// setupLogging configures the process logger at the given level.
func setupLogging(level string) error {
	if err := log.SetLevel(level); err != nil {
		return err
	}
	return log.SetFormat(log.TextFormat)
}
