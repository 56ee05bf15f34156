package cluster

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// +kubebuilder:rbac:groups=stowage.dev,resources=restores,verbs=get;list;watch;create

// restorePoll is how often a cluster being filled by spec.restoreFrom is looked at.
const restorePoll = 5 * time.Second

// restoreGate decides, before the StatefulSet step, whether spec.restoreFrom holds the
// cluster: a new cluster with restoreFrom starts its restore (status.restore), and
// until the Restore completes an engine with a primary keeps one member — the one
// restored into; the others join afterwards and copy it. restoreFrom set on a
// cluster that already ran is ignored (it would restore over live data).
func (r *Reconciler) restoreGate(ctx context.Context, s *state) error {
	from := s.blueprint.Workload.RestoreFrom
	st := s.cluster.GetClusterStatus()
	if from == nil || (st.Restore != nil && st.Restore.Phase == v1alpha1.BackupCompleted) {
		return nil
	}
	if st.Restore == nil {
		// A new cluster is one without members yet (a pass that failed before this
		// step may already have written status).
		exists, err := r.getOptional(ctx, client.ObjectKey{Namespace: s.cluster.GetNamespace(), Name: s.blueprint.Names().StatefulSet()}, &appsv1.StatefulSet{})
		if err != nil || exists {
			return err
		}
		// Written at once: later steps patch status too and read the cluster back, and
		// the decision must outlive this pass before any member exists.
		patch := client.MergeFrom(s.cluster.DeepCopyObject().(client.Object))
		st.Restore = &v1alpha1.ClusterRestore{Name: restoreName(s.cluster.GetName()), Phase: v1alpha1.BackupPending}
		if err := r.Status().Patch(ctx, s.cluster, patch); err != nil {
			return fmt.Errorf("recording the restore from backup: %w", err)
		}
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "RestoreFromBackup", "The new cluster is filled from %s before it grows", describeSource(*from))
	}
	if s.blueprint.HasPrimary {
		s.replicasCap = 1
	}
	return nil
}

// reconcileRestoreFrom creates the Restore once the members it needs are ready (the
// primary; every member for an engine without one) and follows it in status.
func (r *Reconciler) reconcileRestoreFrom(ctx context.Context, s *state) error {
	st := s.cluster.GetClusterStatus()
	from := s.blueprint.Workload.RestoreFrom
	if from == nil || st.Restore == nil || st.Restore.Phase == v1alpha1.BackupCompleted {
		return nil
	}
	s.requeueAfter(restorePoll)
	rs := &v1alpha1.Restore{}
	found, err := r.getOptional(ctx, client.ObjectKey{Namespace: s.cluster.GetNamespace(), Name: st.Restore.Name}, rs)
	if err != nil {
		return err
	}
	if !found {
		if !r.readyForRestore(s) {
			return nil
		}
		rs = &v1alpha1.Restore{
			ObjectMeta: metav1.ObjectMeta{Name: st.Restore.Name, Namespace: s.cluster.GetNamespace(),
				OwnerReferences: []metav1.OwnerReference{s.blueprint.Owner}},
			Spec: v1alpha1.RestoreSpec{Cluster: v1alpha1.ClusterReference{Kind: s.blueprint.Owner.Kind, Name: s.cluster.GetName()}, Source: *from},
		}
		if err := r.Create(ctx, rs); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("creating Restore %s: %w", rs.Name, err)
		}
		return nil
	}
	phase := rs.Status.Phase
	if phase == "" {
		phase = v1alpha1.BackupPending
	}
	if phase == st.Restore.Phase {
		return nil
	}
	st.Restore.Phase, st.Restore.Error = phase, rs.Status.Error
	switch phase {
	case v1alpha1.BackupCompleted:
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "RestoredFromBackup", "Filled from %s; growing to %d members", describeSource(*from), s.blueprint.Workload.Replicas)
		s.replicasCap = 0
	case v1alpha1.BackupFailed:
		r.Recorder.Eventf(s.cluster, corev1.EventTypeWarning, "RestoreFromBackupFailed", "Restoring %s failed: %s", describeSource(*from), rs.Status.Error)
	}
	return nil
}

// readyForRestore: the primary is ready (engines with one), or every member is.
func (r *Reconciler) readyForRestore(s *state) bool {
	ready := 0
	for i := range s.pods {
		if s.pods[i].DeletionTimestamp.IsZero() && podReady(&s.pods[i]) {
			ready++
		}
	}
	if s.blueprint.HasPrimary {
		return ready >= 1 && r.currentPrimary(s) != ""
	}
	return ready == int(s.blueprint.Workload.Replicas) && r.dataPlaneInSync(s, s.pods)
}

func restoreName(cluster string) string {
	n := cluster + "-restore"
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

func describeSource(src v1alpha1.RestoreSource) string {
	if src.BackupName != "" {
		return "backup " + src.BackupName
	}
	if src.Location != nil {
		return "the backup at " + src.Location.Path
	}
	return "a backup"
}
