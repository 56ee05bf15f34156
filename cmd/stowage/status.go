package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stowage/stowage/api/v1alpha1"
)

func newStatusCommand(k *kube) *cobra.Command {
	var kind string
	cmd := &cobra.Command{
		Use:   "status CLUSTER",
		Short: "A cluster's members, their roles and how far behind they are",
		Args:  exactArgs(1, "the cluster to show"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tg, err := k.find(cmd.Context(), args[0], kind)
			if err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), tg.kind, tg.cluster)
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "the cluster's kind when its name is ambiguous: mysql, redis or nats")
	return cmd
}

func printStatus(out io.Writer, kind string, cl v1alpha1.Cluster) {
	st := cl.GetClusterStatus()
	fmt.Fprintf(out, "%s %s: %s, %d of %d members ready", kind, cl.GetName(), orPending(string(st.Phase)), st.ReadyReplicas, cl.GetWorkload().Replicas)
	if st.CurrentPrimary != "" {
		fmt.Fprintf(out, ", primary %s", st.CurrentPrimary)
	}
	fmt.Fprintln(out)
	for _, cond := range st.Conditions {
		if cond.Status == "True" && cond.Type != "Ready" {
			fmt.Fprintf(out, "  %s: %s\n", cond.Type, cond.Message)
		}
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	switch c := cl.(type) {
	case *v1alpha1.MySQLCluster:
		if r := c.Status.Replication; r != nil {
			fmt.Fprintf(out, "replication: %s (%s)\n", r.State, r.Reason)
			fmt.Fprintln(w, "MEMBER\tROLE\tREPLICATING\tLAG\tGTID")
			for _, m := range r.Members {
				fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", m.Name, m.Role, m.Replicating, seconds(m.LagSeconds), m.GTID)
			}
		}
	case *v1alpha1.RedisCluster:
		if r := c.Status.Replication; r != nil {
			fmt.Fprintf(out, "replication: %s (%s); acknowledge writes with WAIT %d\n", r.State, r.Reason, r.WaitReplicas)
			fmt.Fprintln(w, "MEMBER\tROLE\tLINK\tOFFSET\tLAG")
			for _, m := range r.Members {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", m.Name, m.Role, linkOf(m.Role, m.LinkUp), m.Offset, lagBytes(m.LagBytes))
			}
		}
	case *v1alpha1.NATSCluster:
		if js := c.Status.JetStream; js != nil {
			health := "healthy"
			if !js.Healthy {
				health = "NOT healthy"
			}
			fmt.Fprintf(out, "JetStream %s: meta leader %s, %d streams (%d degraded), %d consumers (%d degraded)\n",
				health, js.MetaLeader, js.Streams, js.StreamsDegraded, js.Consumers, js.ConsumersDegraded)
			fmt.Fprintln(w, "SERVER\tSTATE")
			for _, s := range js.Servers {
				state := "current"
				if s == js.MetaLeader {
					state = "meta leader"
				}
				for _, l := range js.Lagging {
					if l == s {
						state = "offline or behind"
					}
				}
				fmt.Fprintf(w, "%s\t%s\n", s, state)
			}
			if js.Error != "" {
				fmt.Fprintf(out, "last error: %s\n", js.Error)
			}
		}
		if cfg := c.Status.Config; cfg != nil && len(cfg.Pending) > 0 {
			fmt.Fprintf(out, "configuration pending on %s\n", strings.Join(cfg.Pending, ", "))
		}
	}
}

func seconds(s *int64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%ds", *s)
}

func lagBytes(b *int64) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprintf("%dB", *b)
}

func linkOf(role string, up bool) string {
	switch {
	case role == "Primary":
		return "-"
	case up:
		return "up"
	default:
		return "down"
	}
}
