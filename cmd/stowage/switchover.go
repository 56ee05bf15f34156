package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

func newSwitchoverCommand(k *kube) *cobra.Command {
	var to, kind string
	cmd := &cobra.Command{
		Use:     "switchover CLUSTER --to MEMBER",
		Short:   "Move a MySQL or Redis cluster's primary to another member, without losing writes",
		Example: `  stowage switchover orders-db --to orders-db-2`,
		Args:    exactArgs(1, "the cluster whose primary moves"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return fmt.Errorf("name the member to promote with --to (see `stowage status %s`)", args[0])
			}
			ctx := cmd.Context()
			tg, err := k.find(ctx, args[0], kind)
			if err != nil {
				return err
			}
			c, cl, clusterKind := tg.c, tg.cluster, tg.kind
			if clusterKind == "NATSCluster" {
				return fmt.Errorf("%s is a NATSCluster: NATS has no primary to switch over", args[0])
			}
			if !strings.HasPrefix(to, args[0]+"-") {
				return fmt.Errorf("--to %q is not a member of %s (members are named %s-<ordinal>)", to, args[0], args[0])
			}
			if st := cl.GetClusterStatus(); st.CurrentPrimary == to {
				return fmt.Errorf("%s is already the primary", to)
			}
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.AnnotationSwitchoverTo, to)
			if err := c.Patch(ctx, cl, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "switchover of %s to %s requested; follow it with `stowage status %s` or `stowage events watch --name %s`\n",
				args[0], to, args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the member to promote")
	cmd.Flags().StringVar(&kind, "kind", "", "the cluster's kind when its name is ambiguous: mysql or redis")
	return cmd
}
