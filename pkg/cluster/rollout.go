package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/workload"
)

// rolloutPoll is how often a pass comes back while a rollout waits on something no
// watched object announces (a replica catching up, a switchover).
const rolloutPoll = 2 * time.Second

// restart is what the rollout does in one pass: at most one of its fields is set.
type restart struct {
	// member is the pod to delete now, so the StatefulSet recreates it at the new
	// revision.
	member string
	// vacate is the primary, the last member left at the old revision: the data-plane
	// manager must switch over to an updated member before it is restarted.
	vacate string
	// waiting says why nothing happens in this pass.
	waiting string
}

// rolloutInput is what the decision needs to know; it is built from the StatefulSet,
// its pods and the data plane, so that nextRestart stays a pure function.
type rolloutInput struct {
	pods []corev1.Pod
	// members is how many pods the StatefulSet asks for.
	members        int32
	updateRevision string
	// primary is the member holding the primary role; "" for engines without one.
	primary string
	// inSync: the data plane reports every member following the primary and caught up
	// (always true without a data plane).
	inSync bool
	// canSwitch: a data-plane manager can move the primary role to another member.
	canSwitch bool
	names     workload.Names
}

// nextRestart decides the next step of a rollout to a new StatefulSet revision. The
// StatefulSet uses the OnDelete strategy, so members change only when the operator
// deletes them, in this order:
//
//  1. one member at a time: nothing happens while a member is terminating or missing,
//     or while a member already at the new revision is not ready — a broken revision stops after
//     its first member instead of taking the cluster down;
//  2. stale members that are not ready go first (they serve nothing, and the new
//     revision may be what repairs them);
//  3. then, with every member ready and in sync, the stale replicas from the highest
//     ordinal down;
//  4. the primary last, after the data-plane manager has switched over to an updated
//     member (a single member is simply restarted).
func nextRestart(in rolloutInput) restart {
	var stale, notReady []*corev1.Pod
	for i := range in.pods {
		p := &in.pods[i]
		if !p.DeletionTimestamp.IsZero() {
			return restart{waiting: p.Name + " is terminating"}
		}
		current := p.Labels[appsv1.ControllerRevisionHashLabelKey] == in.updateRevision
		switch {
		case current && !podReady(p):
			return restart{waiting: p.Name + " runs the new revision but is not ready yet"}
		case !current:
			stale = append(stale, p)
		}
		if !podReady(p) {
			notReady = append(notReady, p)
		}
	}
	if len(stale) == 0 {
		return restart{}
	}
	if int32(len(in.pods)) != in.members {
		// A member just deleted is not recreated yet, or the cluster is scaling.
		return restart{waiting: fmt.Sprintf("%d of %d members exist", len(in.pods), in.members)}
	}
	// Highest ordinal first, as StatefulSets do.
	slices.SortFunc(stale, func(a, b *corev1.Pod) int {
		oa, _ := in.names.Ordinal(a.Name)
		ob, _ := in.names.Ordinal(b.Name)
		return int(ob - oa)
	})
	for _, p := range stale {
		if p.Name != in.primary && !podReady(p) {
			return restart{member: p.Name}
		}
	}
	if len(notReady) > 0 {
		return restart{waiting: notReady[0].Name + " is not ready"}
	}
	if !in.inSync {
		return restart{waiting: "replicas are catching up with the primary"}
	}
	for _, p := range stale {
		if p.Name != in.primary {
			return restart{member: p.Name}
		}
	}
	if in.canSwitch && len(in.pods) > 1 {
		return restart{vacate: in.primary}
	}
	return restart{member: stale[0].Name}
}

// reconcileRollout moves the members to the StatefulSet's current revision one at a
// time, replicas first and the primary last (see nextRestart).
func (r *Reconciler) reconcileRollout(ctx context.Context, s *state) error {
	sts := &appsv1.StatefulSet{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.blueprint.Namespace, Name: s.blueprint.Names().StatefulSet()}, sts); err != nil {
		return fmt.Errorf("reading the StatefulSet: %w", err)
	}
	dp, hasDataPlane := r.Engine.(DataPlane)
	key := client.ObjectKeyFromObject(s.cluster)
	if sts.Status.ObservedGeneration < sts.Generation || sts.Status.UpdateRevision == "" {
		s.requeueAfter(rolloutPoll) // the revision is not known yet
		return nil
	}
	in := rolloutInput{
		pods:           s.pods,
		members:        ptr.Deref(sts.Spec.Replicas, 1),
		updateRevision: sts.Status.UpdateRevision,
		inSync:         true,
		names:          s.blueprint.Names(),
	}
	if hasDataPlane {
		in.inSync = r.dataPlaneInSync(s, s.pods)
	}
	if s.blueprint.HasPrimary {
		in.primary = r.currentPrimary(s)
		if hasDataPlane {
			if _, running := dp.Primary(key); !running {
				// The data-plane step has just (re)started the manager; without its word
				// on sync and switchover nothing may be restarted.
				s.requeueAfter(rolloutPoll)
				return nil
			}
			in.canSwitch = true
		}
	}
	next := nextRestart(in)
	if hasDataPlane && s.blueprint.HasPrimary {
		dp.Vacate(key, next.vacate)
	}
	switch {
	case next.member != "":
		return r.restartMember(ctx, s, next.member, sts.Status.UpdateRevision)
	case next.vacate != "" || next.waiting != "":
		s.requeueAfter(rolloutPoll)
	}
	return nil
}

// restartMember deletes a member's pod so the StatefulSet recreates it at the new
// revision. The UID precondition keeps a pod recreated since the pass began.
func (r *Reconciler) restartMember(ctx context.Context, s *state, name, revision string) error {
	i := slices.IndexFunc(s.pods, func(p corev1.Pod) bool { return p.Name == name })
	pod := &s.pods[i]
	role := "member"
	if l := pod.Labels[workload.LabelRole]; l != "" {
		role = l
	}
	r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "RollingRestart",
		"Restarting %s %s to apply revision %s", role, name, revision)
	err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("restarting %s: %w", name, err)
	}
	s.requeueAfter(rolloutPoll)
	return nil
}
