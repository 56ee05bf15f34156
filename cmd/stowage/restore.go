package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

func newRestoreCommand(k *kube) *cobra.Command {
	var from, name, kind string
	var force, wait bool
	cmd := &cobra.Command{
		Use:     "restore CLUSTER --from BACKUP",
		Short:   "Restore a backup into an empty cluster (or, with --force, over its data)",
		Example: `  stowage restore orders-db-copy --from orders-db-20261122-030000 --wait`,
		Args:    exactArgs(1, "the cluster to restore into"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return fmt.Errorf("name the backup to restore with --from (see `stowage backup list`)")
			}
			ctx := cmd.Context()
			tg, err := k.find(ctx, args[0], kind)
			if err != nil {
				return err
			}
			c, ns, clusterKind := tg.c, tg.ns, tg.kind
			b := &v1alpha1.Backup{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: from}, b); err != nil {
				return fmt.Errorf("backup %s: %w", from, err)
			}
			if b.Spec.Cluster.Kind != clusterKind {
				return fmt.Errorf("backup %s is of a %s; %s is a %s", from, b.Spec.Cluster.Kind, args[0], clusterKind)
			}
			if b.Status.Phase != v1alpha1.BackupCompleted {
				return fmt.Errorf("backup %s is %s; only a Completed backup can be restored", from, orPending(string(b.Status.Phase)))
			}
			if name == "" {
				name = fmt.Sprintf("%s-%s", args[0], time.Now().UTC().Format("20060102-150405"))
			}
			rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: v1alpha1.RestoreSpec{Cluster: v1alpha1.ClusterReference{Kind: clusterKind, Name: args[0]},
					Source: v1alpha1.RestoreSource{BackupName: from}, Force: force}}
			if err := c.Create(ctx, rs); err != nil {
				return fmt.Errorf("creating Restore %s: %w", name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restore %s of backup %s into %s %s created\n", name, from, clusterKind, args[0])
			if !wait {
				return nil
			}
			p := &progress{w: cmd.OutOrStdout(), total: b.Status.Bytes}
			return p.follow(ctx, func(ctx context.Context) (string, int64, string, error) {
				got := &v1alpha1.Restore{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(rs), got); err != nil {
					return "", 0, "", err
				}
				return string(got.Status.Phase), got.Status.Bytes, got.Status.Error, nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the Backup to restore")
	f.StringVar(&name, "name", "", "the Restore's name (default: CLUSTER-<UTC time>)")
	f.StringVar(&kind, "kind", "", "the cluster's kind when its name is ambiguous: mysql, redis or nats")
	f.BoolVar(&force, "force", false, "restore over the data the cluster holds, replacing it")
	f.BoolVar(&wait, "wait", false, "follow the restore to its end with a progress bar")
	return cmd
}
