package cluster

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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

// dataPlaneInSync reports whether the data plane saw every member in sync in a pass
// that began after the newest member became ready: an earlier pass may not have
// noticed a member restarting at all. Without a data plane, readiness is all.
func (r *Reconciler) dataPlaneInSync(s *state, pods []corev1.Pod) bool {
	dp, ok := r.Engine.(DataPlane)
	if !ok {
		return true
	}
	synced := dp.SyncedAt(client.ObjectKeyFromObject(s.cluster))
	return !synced.IsZero() && synced.After(newestReady(pods))
}

// newestReady is when the member that became ready last did, rounded up to the next
// second (conditions carry seconds only).
func newestReady(pods []corev1.Pod) time.Time {
	var newest time.Time
	for i := range pods {
		for _, c := range pods[i].Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && c.LastTransitionTime.After(newest) {
				newest = c.LastTransitionTime.Time
			}
		}
	}
	if newest.IsZero() {
		return newest
	}
	return newest.Add(time.Second)
}

// scaleDownBlocker asks an engine whose data plane must agree to a member's removal
// (NATS: JetStream must keep every stream's replicas); "" when the member may go.
func (r *Reconciler) scaleDownBlocker(s *state, member string) string {
	g, ok := r.Engine.(ScaleDownGate)
	if !ok {
		return ""
	}
	return g.ScaleDownBlocker(client.ObjectKeyFromObject(s.cluster), member)
}

func (r *Reconciler) forgetDataPlane(key client.ObjectKey) {
	if dp, ok := r.Engine.(DataPlane); ok {
		dp.Forget(key)
	}
}
