package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/workload"
)

// reconcileRoles labels every member with its role, so the primary Service selects
// exactly the member status names as primary. A new cluster starts with ordinal 0 as
// primary; afterwards only the engine's data-plane manager moves the primary, by
// writing status.currentPrimary — and while it runs, its word is the freshest.
func (r *Reconciler) reconcileRoles(ctx context.Context, s *state) error {
	pods, err := r.listPods(ctx, s.blueprint)
	if err != nil {
		return err
	}
	s.pods = pods
	if !s.blueprint.HasPrimary {
		return nil
	}
	if status := s.cluster.GetClusterStatus(); status.CurrentPrimary == "" {
		// With an optimistic lock: a pass that read the cluster before another assigned
		// the primary (or a data-plane manager committed one) must not write over it.
		patch := client.MergeFromWithOptions(s.cluster.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		status.CurrentPrimary = s.blueprint.Names().Pod(0)
		if err := r.Status().Patch(ctx, s.cluster, patch); err != nil {
			status.CurrentPrimary = ""
			if apierrors.IsConflict(err) {
				s.requeueAfter(time.Second)
				return nil
			}
			return fmt.Errorf("assigning the first primary: %w", err)
		}
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "PrimaryAssigned", "Bootstrapping with %s as primary", status.CurrentPrimary)
	}
	return LabelRoles(ctx, r.Client, pods, r.currentPrimary(s))
}

// currentPrimary is the member the data-plane manager treats as primary while it
// runs (its word is the freshest), else the one status names.
func (r *Reconciler) currentPrimary(s *state) string {
	if dp, ok := r.Engine.(DataPlane); ok {
		if p, running := dp.Primary(client.ObjectKeyFromObject(s.cluster)); running && p != "" {
			return p
		}
	}
	return s.cluster.GetClusterStatus().CurrentPrimary
}

// LabelRoles labels primary as the primary and every other member as a replica.
func LabelRoles(ctx context.Context, c client.Client, pods []corev1.Pod, primary string) error {
	for i := range pods {
		pod := &pods[i]
		role := workload.RoleReplica
		if pod.Name == primary {
			role = workload.RolePrimary
		}
		if pod.Labels[workload.LabelRole] == role {
			continue
		}
		patch := client.MergeFrom(pod.DeepCopy())
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Labels[workload.LabelRole] = role
		if err := c.Patch(ctx, pod, patch); err != nil {
			return fmt.Errorf("labelling %s as %s: %w", pod.Name, role, err)
		}
	}
	return nil
}
