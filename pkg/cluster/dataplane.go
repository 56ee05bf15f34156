package cluster

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// reconcileDataPlane keeps the engine's data-plane manager running for the members
// the StatefulSet has now (not the target: a member joins the manager's view when the
// StatefulSet creates it, one at a time).
func (r *Reconciler) reconcileDataPlane(ctx context.Context, s *state) error {
	dp, ok := r.Engine.(DataPlane)
	if !ok {
		return nil
	}
	sts := &appsv1.StatefulSet{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.blueprint.Namespace, Name: s.blueprint.Names().StatefulSet()}, sts); err != nil {
		return err
	}
	return dp.Supervise(ctx, s.cluster, s.blueprint, ptr.Deref(sts.Spec.Replicas, 1))
}

func (r *Reconciler) forgetDataPlane(key client.ObjectKey) {
	if dp, ok := r.Engine.(DataPlane); ok {
		dp.Forget(key)
	}
}
