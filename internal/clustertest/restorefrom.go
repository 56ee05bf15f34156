package clustertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/workload"
)

// RunRestoreFrom creates a cluster with spec.restoreFrom: an engine with a primary
// starts with one member and stays there; once that member is ready (every member, for
// an engine without a primary), a Restore of the named backup into the cluster
// appears, owned by it. When the Restore completes (played here: the Restore
// controller runs Jobs, tested on its own), the cluster grows to its replicas and
// status.restore says Completed.
func RunRestoreFrom(t *testing.T, e *testenv.Env, tc Case) {
	ctx := context.Background()
	ns := e.Namespace(t)
	StartManager(t, e, tc.Engine)
	w := workloadSpec(3, v1alpha1.VolumeDelete)
	w.RestoreFrom = &v1alpha1.RestoreSource{BackupName: "nightly"}
	c := tc.New(metav1.ObjectMeta{Name: "filled", Namespace: ns}, w)
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatalf("creating the cluster: %v", err)
	}
	bp, err := tc.Engine.Blueprint(c)
	if err != nil {
		t.Fatal(err)
	}
	first := int32(3)
	if bp.HasPrimary {
		first = 1
	}
	sts := &appsv1.StatefulSet{}
	testenv.Eventually(t, timeout, fmt.Sprintf("the StatefulSet starts with %d members", first), func() error {
		if _, err := e.MarkMembersReady(ctx, ns, workload.SelectorLabels(bp.Engine, c.GetName())); err != nil {
			return err
		}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.GetName()}, sts); err != nil {
			return err
		}
		if got := ptr.Deref(sts.Spec.Replicas, 0); got != first {
			return fmt.Errorf("%d replicas", got)
		}
		return nil
	})
	rs := &v1alpha1.Restore{}
	testenv.Eventually(t, timeout, "the Restore appears once its members are ready", func() error {
		if _, err := e.MarkMembersReady(ctx, ns, workload.SelectorLabels(bp.Engine, c.GetName())); err != nil {
			return err
		}
		return e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "filled-restore"}, rs)
	})
	if rs.Spec.Source.BackupName != "nightly" || rs.Spec.Cluster.Name != "filled" || rs.Spec.Cluster.Kind != bp.Owner.Kind ||
		len(rs.OwnerReferences) != 1 || rs.OwnerReferences[0].UID != c.GetUID() || rs.Spec.Force {
		t.Errorf("restore %+v owners %+v", rs.Spec, rs.OwnerReferences)
	}
	// Held while the Restore runs.
	time.Sleep(3 * time.Second)
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil || ptr.Deref(sts.Spec.Replicas, 0) != first {
		t.Fatalf("the cluster grew before its restore finished: %d replicas, %v", ptr.Deref(sts.Spec.Replicas, 0), err)
	}
	rs.Status = v1alpha1.RestoreStatus{Phase: v1alpha1.BackupCompleted}
	if err := e.Client.Status().Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
	waitForReadyMembers(t, e, bp.Engine, c, 3)
	waitForStatus(t, e, c, "status.restore Completed", func(s *v1alpha1.ClusterStatus) error {
		if r := s.Restore; r == nil || r.Phase != v1alpha1.BackupCompleted || r.Name != "filled-restore" {
			return fmt.Errorf("status.restore %+v", r)
		}
		return nil
	})
}
