// Command stowage (also installed as kubectl-stowage, so `kubectl stowage …` works)
// is the Stowage CLI: backups and restores, switchovers, a cluster's status, and the
// operator's event bus.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "stowage:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command { return newRootWith(nil) }

// newRootWith builds the CLI; connect, when set, replaces the kubeconfig (tests).
func newRootWith(connect func() (client.Client, string, error)) *cobra.Command {
	root := &cobra.Command{
		Use:           "stowage",
		Short:         "Operate Stowage databases (MySQL, Redis, NATS) on Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	k := newKube()
	k.bind(root)
	if connect != nil {
		k.connect = connect
	}
	root.AddCommand(newEventsCommand(), newBackupCommand(k), newRestoreCommand(k), newSwitchoverCommand(k), newStatusCommand(k))
	return root
}
