package cluster

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/workload"
)

// reconcileVolumes grows bound member volumes to spec.storage.size. Expansion is the
// StorageClass's business: when it refuses, a warning says so and the cluster keeps
// running on the volumes it has.
func (r *Reconciler) reconcileVolumes(ctx context.Context, s *state) error {
	bp := s.blueprint
	if !bp.HasVolume() {
		return nil
	}
	var claims corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &claims, client.InNamespace(bp.Namespace), client.MatchingLabels(workload.SelectorLabels(bp.Engine, bp.Name))); err != nil {
		return err
	}
	want := bp.Workload.Storage.Size
	for i := range claims.Items {
		pvc := &claims.Items[i]
		have := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if pvc.Status.Phase != corev1.ClaimBound || have.Cmp(want) >= 0 {
			continue
		}
		patch := client.MergeFrom(pvc.DeepCopy())
		pvc.Spec.Resources.Requests[corev1.ResourceStorage] = want
		if err := r.Patch(ctx, pvc, patch); err != nil {
			r.Recorder.Eventf(s.cluster, corev1.EventTypeWarning, "VolumeExpansionFailed", "Cannot grow %s from %s to %s: %v", pvc.Name, have.String(), want.String(), err)
			continue
		}
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "VolumeExpanding", "Growing %s from %s to %s", pvc.Name, have.String(), want.String())
	}
	return nil
}
