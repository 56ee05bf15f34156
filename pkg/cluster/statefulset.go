package cluster

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/apply"
	"github.com/stowage/stowage/pkg/workload"
)

// reconcileStatefulSet writes the members' StatefulSet and tells a human when the
// change scales the cluster or rolls its members.
func (r *Reconciler) reconcileStatefulSet(ctx context.Context, s *state) error {
	bp := s.blueprint
	desired := workload.StatefulSet(bp)
	existing := &appsv1.StatefulSet{}
	found, err := r.getOptional(ctx, client.ObjectKeyFromObject(desired), existing)
	if err != nil {
		return err
	}
	if found {
		keepClaimTemplates(desired, existing)
		desired.Spec.Replicas = ptr.To(nextReplicas(existing, bp.Workload.Replicas))
	}
	if err := apply.Object(ctx, r.Client, desired); err != nil {
		return err
	}
	if !found {
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "Creating", "Creating %d members", bp.Workload.Replicas)
		return nil
	}
	if from, to := ptr.Deref(existing.Spec.Replicas, 1), *desired.Spec.Replicas; from != to {
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "Scaling", "Scaling from %d to %d members (target %d)", from, to, bp.Workload.Replicas)
	}
	if existing.Spec.Template.Annotations[workload.AnnotationConfigHash] != desired.Spec.Template.Annotations[workload.AnnotationConfigHash] {
		r.Recorder.Event(s.cluster, corev1.EventTypeNormal, "ConfigurationChanged", "Configuration changed; restarting members one at a time")
	}
	return nil
}

// keepClaimTemplates keeps the StatefulSet's volume claim templates as they are: the
// API server forbids changing them, so a larger size is applied to each claim instead
// (reconcileVolumes).
func keepClaimTemplates(desired, existing *appsv1.StatefulSet) {
	if len(desired.Spec.VolumeClaimTemplates) == 0 || len(existing.Spec.VolumeClaimTemplates) == 0 {
		return
	}
	old := existing.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]
	desired.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = old
}

// nextReplicas moves the StatefulSet one member towards the target: up only once every
// current member is ready (a new member never joins a cluster still catching up), down
// once the previous removal has finished. Highest ordinals go first, as StatefulSets do.
func nextReplicas(sts *appsv1.StatefulSet, target int32) int32 {
	current := ptr.Deref(sts.Spec.Replicas, 1)
	settled := sts.Status.ObservedGeneration >= sts.Generation && sts.Status.Replicas == current
	switch {
	case target > current && settled && sts.Status.ReadyReplicas == current:
		return current + 1
	case target < current && settled:
		return current - 1
	default:
		return current
	}
}
