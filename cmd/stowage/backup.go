package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// targetFlags say where a backup goes: a PVC, or an S3 bucket.
type targetFlags struct {
	pvc                  string
	s3Endpoint, s3Bucket string
	s3Prefix, s3Region   string
	s3Secret             string
	s3Insecure           bool
}

func (t *targetFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&t.pvc, "pvc", "", "store on this PersistentVolumeClaim, as claim or claim/path")
	f.StringVar(&t.s3Endpoint, "s3-endpoint", "", "store in S3 at this endpoint (host[:port])")
	f.StringVar(&t.s3Bucket, "s3-bucket", "", "the S3 bucket")
	f.StringVar(&t.s3Prefix, "s3-prefix", "", "a prefix inside the bucket")
	f.StringVar(&t.s3Region, "s3-region", "", "the bucket's region")
	f.StringVar(&t.s3Secret, "s3-secret", "", "the Secret with the keys accessKeyID and secretAccessKey")
	f.BoolVar(&t.s3Insecure, "s3-insecure", false, "talk plain HTTP to the S3 endpoint")
}

func (t *targetFlags) target() (v1alpha1.BackupTarget, error) {
	switch {
	case t.pvc != "" && t.s3Endpoint != "":
		return v1alpha1.BackupTarget{}, fmt.Errorf("give --pvc or --s3-endpoint, not both")
	case t.pvc != "":
		claim, path, _ := strings.Cut(t.pvc, "/")
		if claim == "" {
			return v1alpha1.BackupTarget{}, fmt.Errorf("--pvc %q: name the claim, as claim or claim/path", t.pvc)
		}
		return v1alpha1.BackupTarget{PVC: &v1alpha1.PVCTarget{ClaimName: claim, Path: path}}, nil
	case t.s3Endpoint != "":
		if t.s3Bucket == "" || t.s3Secret == "" {
			return v1alpha1.BackupTarget{}, fmt.Errorf("an S3 target needs --s3-bucket and --s3-secret (a Secret with accessKeyID and secretAccessKey)")
		}
		return v1alpha1.BackupTarget{S3: &v1alpha1.S3Target{Endpoint: t.s3Endpoint, Bucket: t.s3Bucket, Prefix: t.s3Prefix,
			Region: t.s3Region, Insecure: t.s3Insecure, CredentialsSecretRef: corev1.LocalObjectReference{Name: t.s3Secret}}}, nil
	default:
		return v1alpha1.BackupTarget{}, fmt.Errorf("say where the backup goes: --pvc claim[/path] or --s3-endpoint with --s3-bucket and --s3-secret")
	}
}

func newBackupCommand(k *kube) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Take, list, describe and delete backups"}
	cmd.AddCommand(newBackupCreate(k), newBackupList(k), newBackupDescribe(k), newBackupDelete(k))
	return cmd
}

func newBackupCreate(k *kube) *cobra.Command {
	var t targetFlags
	var name, kind, source, compression string
	var wait bool
	cmd := &cobra.Command{
		Use:   "create CLUSTER",
		Short: "Back a cluster up now",
		Example: `  stowage backup create orders-db --pvc backups/orders --wait
  stowage backup create cache --s3-endpoint s3.example.com --s3-bucket backups --s3-secret s3-credentials`,
		Args: exactArgs(1, "the cluster to back up"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := t.target()
			if err != nil {
				return err
			}
			src := v1alpha1.BackupSource("PreferReplica")
			switch strings.ToLower(source) {
			case "", "replica", "preferreplica":
			case "primary":
				src = "Primary"
			default:
				return fmt.Errorf("--source %q: use replica (the default) or primary", source)
			}
			switch compression {
			case "zstd", "gzip", "none":
			default:
				return fmt.Errorf("--compression %q: use zstd, gzip or none", compression)
			}
			ctx := cmd.Context()
			tg, err := k.find(ctx, args[0], kind)
			if err != nil {
				return err
			}
			c, ns, clusterKind := tg.c, tg.ns, tg.kind
			if name == "" {
				name = fmt.Sprintf("%s-%s", args[0], time.Now().UTC().Format("20060102-150405"))
			}
			b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: v1alpha1.BackupSpec{BackupTemplate: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: clusterKind, Name: args[0]},
					Target: target, Compression: v1alpha1.Compression(compression), Source: src}}}
			if err := c.Create(ctx, b); err != nil {
				return fmt.Errorf("creating Backup %s: %w", name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup %s of %s %s created\n", name, clusterKind, args[0])
			if !wait {
				return nil
			}
			return followBackup(ctx, c, client.ObjectKeyFromObject(b), cmd.OutOrStdout())
		},
	}
	t.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the Backup's name (default: CLUSTER-<UTC time>)")
	f.StringVar(&kind, "kind", "", "the cluster's kind when its name is ambiguous: mysql, redis or nats")
	f.StringVar(&source, "source", "replica", "read a ready replica (the default) or the primary")
	f.StringVar(&compression, "compression", "zstd", "zstd, gzip or none")
	f.BoolVar(&wait, "wait", false, "follow the backup to its end with a progress bar")
	return cmd
}

func followBackup(ctx context.Context, c client.Client, key client.ObjectKey, w io.Writer) error {
	p := &progress{w: w}
	return p.follow(ctx, func(ctx context.Context) (string, int64, string, error) {
		b := &v1alpha1.Backup{}
		if err := c.Get(ctx, key, b); err != nil {
			return "", 0, "", err
		}
		return string(b.Status.Phase), b.Status.Bytes, b.Status.Error, nil
	})
}

func newBackupList(k *kube) *cobra.Command {
	var cluster string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List backups, newest first",
		Args:  exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ns, err := k.connect()
			if err != nil {
				return err
			}
			var list v1alpha1.BackupList
			if err := c.List(cmd.Context(), &list, client.InNamespace(ns)); err != nil {
				return err
			}
			items := list.Items
			sort.Slice(items, func(i, j int) bool { return items[j].CreationTimestamp.Before(&items[i].CreationTimestamp) })
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tCLUSTER\tKIND\tPHASE\tSIZE\tSOURCE\tAGE")
			for _, b := range items {
				if cluster != "" && b.Spec.Cluster.Name != cluster {
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, b.Spec.Cluster.Name, b.Spec.Cluster.Kind, orPending(string(b.Status.Phase)),
					humanize.IBytes(uint64(max(b.Status.Bytes, 0))), b.Status.SourceInstance, age(b.CreationTimestamp))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "only this cluster's backups")
	return cmd
}

func newBackupDescribe(k *kube) *cobra.Command {
	return &cobra.Command{
		Use:   "describe BACKUP",
		Short: "Show a backup's status, position, location and conditions",
		Args:  exactArgs(1, "the backup to describe"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := k.connect()
			if err != nil {
				return err
			}
			b := &v1alpha1.Backup{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, b); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			s := b.Status
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(w, "%s:\t%s\n", k, v)
				}
			}
			row("Name", b.Name)
			row("Cluster", b.Spec.Cluster.Kind+" "+b.Spec.Cluster.Name)
			row("Target", describeTarget(b.Spec.Target))
			row("Phase", orPending(string(s.Phase)))
			row("Source", s.SourceInstance)
			row("Location", s.Location)
			row("Position", s.Position)
			if s.Bytes > 0 {
				row("Size", humanize.IBytes(uint64(s.Bytes)))
			}
			if s.StartedAt != nil {
				row("Started", s.StartedAt.UTC().Format(time.RFC3339))
			}
			if s.StartedAt != nil && s.CompletedAt != nil {
				row("Completed", fmt.Sprintf("%s (took %s)", s.CompletedAt.UTC().Format(time.RFC3339), s.CompletedAt.Sub(s.StartedAt.Time).Round(time.Second)))
			}
			row("Error", s.Error)
			for _, cond := range s.Conditions {
				row("Condition "+cond.Type, fmt.Sprintf("%s (%s) %s", cond.Status, cond.Reason, cond.Message))
			}
			return w.Flush()
		},
	}
}

func newBackupDelete(k *kube) *cobra.Command {
	return &cobra.Command{
		Use:   "delete BACKUP",
		Short: "Delete a backup and its stored files",
		Args:  exactArgs(1, "the backup to delete"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := k.connect()
			if err != nil {
				return err
			}
			b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: args[0], Namespace: ns}}
			if err := c.Delete(cmd.Context(), b); err != nil {
				return fmt.Errorf("deleting Backup %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup %s deleted (its files are deleted from the target before the object goes)\n", args[0])
			return nil
		},
	}
}

func describeTarget(t v1alpha1.BackupTarget) string {
	switch {
	case t.PVC != nil:
		return "pvc " + strings.TrimSuffix(t.PVC.ClaimName+"/"+t.PVC.Path, "/")
	case t.S3 != nil:
		return fmt.Sprintf("s3 %s/%s/%s", t.S3.Endpoint, t.S3.Bucket, t.S3.Prefix)
	}
	return ""
}

func age(t metav1.Time) string {
	d := time.Since(t.Time)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// exactArgs is cobra.ExactArgs with an error that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		if n == 0 {
			return fmt.Errorf("%s takes no arguments (got %v)", cmd.CommandPath(), args)
		}
		return fmt.Errorf("%s needs %s (usage: %s)", cmd.CommandPath(), what, cmd.UseLine())
	}
}
