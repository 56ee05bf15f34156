// Command stowage (also installed as kubectl-stowage, so `kubectl stowage …` works)
// is the Stowage CLI. This first command reads the operator's event bus; backups,
// restores, switchovers and status follow.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "stowage:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "stowage",
		Short:         "Operate Stowage databases (MySQL, Redis, NATS) on Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newEventsCommand())
	return root
}
