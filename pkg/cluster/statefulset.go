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
		gate := r.scaleGate(ctx, s, existing)
		target := bp.Workload.Replicas
		if s.replicasCap > 0 && target > s.replicasCap {
			target = s.replicasCap
		}
		desired.Spec.Replicas = ptr.To(nextReplicas(existing, target, gate))
		if s.scaleBlocked = gate.blocked; gate.blocked != "" {
			r.Recorder.Eventf(s.cluster, corev1.EventTypeWarning, "ScaleDownBlocked", "Not removing a member: %s", gate.blocked)
		}
		if *desired.Spec.Replicas != bp.Workload.Replicas {
			// The data plane's gate opens without an event the controller watches.
			s.requeueAfter(rolloutPoll)
		}
	}
	if !found && s.replicasCap > 0 && *desired.Spec.Replicas > s.replicasCap {
		desired.Spec.Replicas = ptr.To(s.replicasCap)
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

// scaleGate is what the data plane adds to the decision to add or remove a member.
type scaleGate struct {
	// inSync: every member follows the primary and is caught up.
	inSync bool
	// keep is how many members must stay: the primary's ordinal plus one, since
	// removal goes from the highest ordinal down and the primary is never removed
	// (the data-plane manager switches it to a remaining member first).
	keep int32
	// blocked says why the highest member may not be removed now ("" when it may).
	blocked string
}

func (r *Reconciler) scaleGate(ctx context.Context, s *state, sts *appsv1.StatefulSet) scaleGate {
	// This step runs before the roles step lists the members; the gate needs them now.
	pods, err := r.listPods(ctx, s.blueprint)
	g := scaleGate{inSync: err == nil && r.dataPlaneInSync(s, pods)}
	if current := ptr.Deref(sts.Spec.Replicas, 1); s.blueprint.Workload.Replicas < current {
		g.blocked = r.scaleDownBlocker(s, s.blueprint.Names().Pod(int(current-1)))
	}
	if _, ok := r.Engine.(DataPlane); !ok || !s.blueprint.HasPrimary {
		return g
	}
	if ordinal, ok := s.blueprint.Names().Ordinal(r.currentPrimary(s)); ok {
		g.keep = ordinal + 1
	}
	return g
}

// nextReplicas moves the StatefulSet one member towards the target: up only once every
// current member is ready and in sync (a new member never joins a cluster still
// catching up), down once the previous removal has finished and never past the
// primary. Highest ordinals go first, as StatefulSets do.
func nextReplicas(sts *appsv1.StatefulSet, target int32, gate scaleGate) int32 {
	current := ptr.Deref(sts.Spec.Replicas, 1)
	settled := sts.Status.ObservedGeneration >= sts.Generation && sts.Status.Replicas == current
	switch {
	case target > current && settled && sts.Status.ReadyReplicas == current && gate.inSync:
		return current + 1
	case target < current && settled && current-1 >= gate.keep && gate.blocked == "":
		return current - 1
	default:
		return current
	}
}
