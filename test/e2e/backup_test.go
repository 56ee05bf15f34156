//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// backupClaim is the PVC every backup of the e2e run is stored on.
const backupClaim = "e2e-backups"

func ensureBackupClaim(ctx context.Context, t *testing.T) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: backupClaim, Namespace: samplesNS},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr.To("standard"),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}}}}
	if err := k8s.Create(ctx, pvc); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// checkBackupRestore writes a value, lets a BackupSchedule take a backup of the
// sample to a PVC, restores the backup into a new, empty cluster with a Restore, and
// reads the value back from it.
func (ec engineCase) checkBackupRestore(ctx context.Context, t *testing.T) {
	ensureBackupClaim(ctx, t)
	value := fmt.Sprintf("backup-%d", time.Now().Unix())
	if err := ec.write(ctx, value); err != nil {
		t.Fatalf("writing: %v", err)
	}
	kind := ec.cluster(ctx, t).GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = map[string]string{"mysql": "MySQLCluster", "redis": "RedisCluster", "nats": "NATSCluster"}[ec.engine]
	}
	keep := int32(2)
	schedule := &v1alpha1.BackupSchedule{ObjectMeta: metav1.ObjectMeta{Name: ec.name + "-nightly", Namespace: samplesNS},
		Spec: v1alpha1.BackupScheduleSpec{Schedule: "@every 1m", Retention: &v1alpha1.BackupRetention{KeepLast: &keep},
			Template: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: kind, Name: ec.name},
				Target: v1alpha1.BackupTarget{PVC: &v1alpha1.PVCTarget{ClaimName: backupClaim, Path: "stowage"}}}}}
	if err := k8s.Create(ctx, schedule); err != nil {
		t.Fatal(err)
	}
	defer k8s.Delete(ctx, schedule) //nolint:errcheck // best effort

	start := time.Now()
	var done v1alpha1.Backup
	eventually(t, 5*time.Minute, "a scheduled backup completes", func() error {
		var list v1alpha1.BackupList
		if err := k8s.List(ctx, &list, client.InNamespace(samplesNS), client.MatchingLabels{"stowage.dev/schedule": schedule.Name}); err != nil {
			return err
		}
		for _, b := range list.Items {
			switch b.Status.Phase {
			case v1alpha1.BackupCompleted:
				done = b
				return nil
			case v1alpha1.BackupFailed:
				t.Fatalf("backup %s failed: %s", b.Name, b.Status.Error)
			}
		}
		return fmt.Errorf("%d backups, none completed", len(list.Items))
	}, 2*time.Second)
	took := done.Status.CompletedAt.Sub(done.Status.StartedAt.Time)
	t.Logf("backup %s of %s from %s: %d bytes at %s in %s", done.Name, ec.name, done.Status.SourceInstance, done.Status.Bytes, done.Status.Position, took)
	timings.add(ec.engine+" scheduled backup (job) → completed", took)

	// A new cluster, as the sample but empty, with a replica: the restored data must
	// reach it too. MySQL's is filled by spec.restoreFrom (one member first, then it
	// grows and the replica is seeded from the restored primary); Redis's and NATS's
	// by a Restore into the running cluster (the Redis replica resynchronises; NATS has
	// three servers, room for the sample's R3 stream).
	members := int32(2)
	if ec.engine == "nats" {
		members = 3
	}
	viaSpec := ec.engine == "mysql"
	restored := ec.cluster(ctx, t).DeepCopyObject().(v1alpha1.Cluster)
	restored.SetName(ec.name + "-restored")
	restored.SetResourceVersion("")
	restored.SetUID("")
	restored.SetAnnotations(nil)
	restored.SetCreationTimestamp(metav1.Time{})
	restored.SetManagedFields(nil)
	restored.GetWorkload().Replicas = members
	if viaSpec {
		restored.GetWorkload().RestoreFrom = &v1alpha1.RestoreSource{BackupName: done.Name}
	}
	*restored.GetClusterStatus() = v1alpha1.ClusterStatus{}
	if err := k8s.Create(ctx, restored); err != nil {
		t.Fatal(err)
	}
	defer k8s.Delete(ctx, restored) //nolint:errcheck // best effort
	restoreStart := time.Now()
	current := func() (v1alpha1.Cluster, error) {
		c := ec.newObj()
		return c, k8s.Get(ctx, client.ObjectKeyFromObject(restored), c)
	}
	eventually(t, 8*time.Minute, restored.GetName()+" is Ready with every member", func() error {
		c, err := current()
		if err != nil {
			return err
		}
		st := c.GetClusterStatus()
		if viaSpec && (st.Restore == nil || st.Restore.Phase != v1alpha1.BackupCompleted) {
			if st.Restore != nil && st.Restore.Phase == v1alpha1.BackupFailed {
				t.Fatalf("spec.restoreFrom failed: %s", st.Restore.Error)
			}
			return fmt.Errorf("status.restore %+v", st.Restore)
		}
		if st.Phase != "Ready" || st.ReadyReplicas != members {
			return fmt.Errorf("phase %q, %d of %d members ready", st.Phase, st.ReadyReplicas, members)
		}
		return nil
	}, 2*time.Second)

	if nc, ok := ec.newObj().(*v1alpha1.NATSCluster); ok {
		// Pods are ready once their server's JetStream is up; streams are created
		// once the meta group has a leader and every server is current.
		eventually(t, 3*time.Minute, restored.GetName()+"'s JetStream is healthy", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(restored), nc); err != nil {
				return err
			}
			if js := nc.Status.JetStream; js == nil || !js.Healthy || len(js.Servers) != 3 {
				return fmt.Errorf("status.jetStream %+v", js)
			}
			return nil
		}, 2*time.Second)
	}
	if !viaSpec {
		rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "restore-" + ec.name, Namespace: samplesNS},
			Spec: v1alpha1.RestoreSpec{Cluster: v1alpha1.ClusterReference{Kind: kind, Name: restored.GetName()},
				Source: v1alpha1.RestoreSource{BackupName: done.Name}}}
		if err := k8s.Create(ctx, rs); err != nil {
			t.Fatal(err)
		}
		restoreStart = time.Now()
		eventually(t, 5*time.Minute, "the restore completes", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(rs), rs); err != nil {
				return err
			}
			switch rs.Status.Phase {
			case v1alpha1.BackupCompleted:
				return nil
			case v1alpha1.BackupFailed:
				t.Fatalf("restore failed: %s", rs.Status.Error)
			}
			return fmt.Errorf("phase %q %+v", rs.Status.Phase, rs.Status.Conditions)
		}, 2*time.Second)
		timings.add(ec.engine+" Restore into a new cluster → completed", time.Since(restoreStart))
	}
	for m := range members {
		eventually(t, 3*time.Minute, fmt.Sprintf("member %d of the restored cluster serves the backed-up value", m), func() error {
			got, err := ec.readFrom(ctx, restored.GetName(), int(m))
			if err != nil {
				return err
			}
			if got != value {
				return fmt.Errorf("read %q, want %q", got, value)
			}
			return nil
		}, 2*time.Second)
	}
	if viaSpec {
		timings.add(ec.engine+" spec.restoreFrom: created → every member serves the data", time.Since(restoreStart))
		c, err := current()
		if err != nil {
			t.Fatal(err)
		}
		if c.GetClusterStatus().CurrentPrimary != restored.GetName()+"-0" {
			t.Errorf("the primary is %s, not the member restored into", c.GetClusterStatus().CurrentPrimary)
		}
	}
	t.Logf("%s restored from %s: its %d members serve %q, %s after the schedule was created", restored.GetName(), done.Name, members, value, time.Since(start).Round(time.Second))
}
