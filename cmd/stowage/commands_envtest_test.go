package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
)

var env testenv.Shared

func TestMain(m *testing.M) { os.Exit(env.Run(m)) }

// run runs the CLI with args against the envtest API server, in namespace ns.
func run(t *testing.T, e *testenv.Env, ns string, args ...string) (string, error) {
	t.Helper()
	root := newRootWith(func() (client.Client, string, error) { return e.Client, ns, nil })
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestEnvtestCommands drives the CLI against a real API server: a backup of a
// cluster found by name among the kinds, listed and described; a restore refused
// until its backup completes; a switchover requested by annotation, and refused for a
// member of another cluster and for NATS; arguments checked with errors naming the
// fix.
func TestEnvtestCommands(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	storage := v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
	for _, c := range []client.Object{
		&v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: ns}, Spec: v1alpha1.RedisClusterSpec{WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 3, Storage: storage}}},
		&v1alpha1.NATSCluster{ObjectMeta: metav1.ObjectMeta{Name: "bus", Namespace: ns}, Spec: v1alpha1.NATSClusterSpec{WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 3, Storage: storage}}},
		&v1alpha1.NATSCluster{ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: ns}, Spec: v1alpha1.NATSClusterSpec{WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 1, Storage: storage}}},
	} {
		if err := e.Client.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	errCases := []struct {
		args []string
		want string
	}{
		{[]string{"backup", "create"}, "needs the cluster to back up"},
		{[]string{"backup", "create", "cache"}, "--pvc claim[/path] or --s3-endpoint"},
		{[]string{"backup", "create", "cache", "--pvc", "b", "--s3-endpoint", "s3"}, "not both"},
		{[]string{"backup", "create", "cache", "--s3-endpoint", "s3"}, "--s3-bucket and --s3-secret"},
		{[]string{"backup", "create", "cache", "--pvc", "b"}, "choose one with --kind"},
		{[]string{"backup", "create", "nothing", "--pvc", "b"}, `no cluster named "nothing"`},
		{[]string{"backup", "create", "cache", "--kind", "postgres", "--pvc", "b"}, "use mysql, redis or nats"},
		{[]string{"backup", "create", "bus", "--pvc", "b", "--compression", "lz4"}, "--compression"},
		{[]string{"restore", "cache", "--kind", "redis"}, "--from"},
		{[]string{"switchover", "cache", "--kind", "redis"}, "--to"},
		{[]string{"switchover", "bus", "--to", "bus-1"}, "NATS has no primary"},
		{[]string{"switchover", "cache", "--kind", "redis", "--to", "bus-1"}, "not a member of cache"},
	}
	for _, tc := range errCases {
		if _, err := run(t, e, ns, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}

	out, err := run(t, e, ns, "backup", "create", "cache", "--kind", "redis", "--pvc", "backups/redis", "--name", "b1", "--source", "primary")
	if err != nil || !strings.Contains(out, "backup b1 of RedisCluster cache created") {
		t.Fatalf("backup create: %v %s", err, out)
	}
	b := &v1alpha1.Backup{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "b1"}, b); err != nil {
		t.Fatal(err)
	}
	if b.Spec.Cluster.Kind != "RedisCluster" || b.Spec.Target.PVC.ClaimName != "backups" || b.Spec.Target.PVC.Path != "redis" || b.Spec.Source != "Primary" {
		t.Errorf("backup spec %+v", b.Spec)
	}
	if out, err := run(t, e, ns, "backup", "list"); err != nil || !strings.Contains(out, "b1") || !strings.Contains(out, "Pending") {
		t.Errorf("backup list: %v\n%s", err, out)
	}
	if _, err := run(t, e, ns, "restore", "cache", "--kind", "redis", "--from", "b1"); err == nil || !strings.Contains(err.Error(), "only a Completed backup") {
		t.Errorf("a restore from an unfinished backup: %v", err)
	}
	b.Status = v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, Bytes: 2048, Position: "abc:7", SourceInstance: "cache-0", Location: ns + "/cache/b1"}
	if err := e.Client.Status().Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, e, ns, "backup", "describe", "b1"); err != nil || !strings.Contains(out, "abc:7") || !strings.Contains(out, "2.0 KiB") {
		t.Errorf("backup describe: %v\n%s", err, out)
	}
	if _, err := run(t, e, ns, "restore", "bus", "--from", "b1"); err == nil || !strings.Contains(err.Error(), "is of a RedisCluster") {
		t.Errorf("a restore across kinds: %v", err)
	}
	if out, err := run(t, e, ns, "restore", "cache", "--kind", "redis", "--from", "b1", "--name", "r1", "--force"); err != nil || !strings.Contains(out, "restore r1") {
		t.Fatalf("restore: %v %s", err, out)
	}
	rs := &v1alpha1.Restore{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "r1"}, rs); err != nil || !rs.Spec.Force || rs.Spec.Source.BackupName != "b1" {
		t.Errorf("restore %+v %v", rs.Spec, err)
	}

	if _, err := run(t, e, ns, "switchover", "cache", "--kind", "redis", "--to", "cache-2"); err != nil {
		t.Fatal(err)
	}
	rc := &v1alpha1.RedisCluster{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cache"}, rc); err != nil || rc.Annotations[v1alpha1.AnnotationSwitchoverTo] != "cache-2" {
		t.Errorf("switchover annotation %v %v", rc.Annotations, err)
	}
	rc.Status.ClusterStatus = v1alpha1.ClusterStatus{Phase: "Ready", ReadyReplicas: 3, CurrentPrimary: "cache-0"}
	lag := int64(12)
	rc.Status.Replication = &v1alpha1.RedisReplicationStatus{State: "Healthy", Reason: "all in sync", WaitReplicas: 1,
		Members: []v1alpha1.RedisMemberStatus{{Name: "cache-0", Role: "Primary", Reachable: true, Offset: 100}, {Name: "cache-1", Role: "Replica", Reachable: true, Offset: 88, LinkUp: true, LagBytes: &lag}}}
	if err := e.Client.Status().Update(ctx, rc); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, e, ns, "status", "cache", "--kind", "redis")
	if err != nil || !strings.Contains(out, "primary cache-0") || !strings.Contains(out, "WAIT 1") || !strings.Contains(out, "12B") {
		t.Errorf("status: %v\n%s", err, out)
	}
}
