package cluster

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/apply"
	"github.com/stowage/stowage/pkg/workload"
)

// Condition reasons.
const (
	ReasonAllMembersReady  = "AllMembersReady"
	ReasonMembersNotReady  = "MembersNotReady"
	ReasonCreating         = "Creating"
	ReasonScaling          = "Scaling"
	ReasonScaleDownBlocked = "ScaleDownBlocked"
	ReasonUpdating         = "Updating"
	ReasonStable           = "Stable"
	ReasonReconcileFailed  = "ReconcileFailed"
	ReasonCredentials      = "CredentialsInvalid"
	ReasonConfigInvalid    = "ConfigurationInvalid"
	ReasonNameConflict     = "NameConflict"
	ReasonMembersUnhealthy = "MembersUnhealthy"
	ReasonHealthy          = "Healthy"
)

// observation is what the status step saw of the members.
type observation struct {
	desired, existing, ready, updated int32
	rolling                           bool
	scaleBlocked                      string
}

// updateStatus writes what the cluster looks like now. It runs after every pass,
// failed or not.
func (r *Reconciler) updateStatus(ctx context.Context, original v1alpha1.Cluster, s *state, stepErr error) error {
	c := s.cluster
	status := c.GetClusterStatus()
	obs, err := r.observe(ctx, s)
	if err != nil {
		return err
	}
	status.ObservedGeneration = c.GetGeneration()
	status.Replicas = obs.existing
	status.ReadyReplicas = obs.ready
	status.Selector = labels.SelectorFromSet(workload.SelectorLabels(s.blueprint.Engine, c.GetName())).String()
	if s.blueprint.SecretName != "" {
		status.CredentialsSecret = s.blueprint.SecretName
	}

	wasReady := meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionReady)
	wasDegraded := meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionDegraded)
	status.Phase = phaseOf(obs, wasEverReady(status), stepErr)
	setConditions(status, c.GetGeneration(), obs, stepErr)

	if ready := meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionReady); ready && !wasReady {
		r.Recorder.Eventf(c, corev1.EventTypeNormal, "ClusterReady", "All %d members are ready", obs.desired)
	}
	if degraded := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionDegraded); degraded != nil &&
		degraded.Status == metav1.ConditionTrue && !wasDegraded {
		r.Recorder.Event(c, corev1.EventTypeWarning, "ClusterDegraded", degraded.Message)
	}

	if err := r.Status().Patch(ctx, c, client.MergeFrom(original)); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	return nil
}

// wasEverReady tells a cluster still coming up from one that served before: only the
// latter can be Scaling, Updating or Degraded (phaseOf never gives those otherwise).
func wasEverReady(status *v1alpha1.ClusterStatus) bool {
	switch status.Phase {
	case v1alpha1.PhaseReady, v1alpha1.PhaseScaling, v1alpha1.PhaseUpdating, v1alpha1.PhaseDegraded:
		return true
	}
	return meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionReady)
}

func (r *Reconciler) observe(ctx context.Context, s *state) (observation, error) {
	obs := observation{desired: s.cluster.GetWorkload().Replicas, scaleBlocked: s.scaleBlocked}
	pods := s.pods
	if pods == nil && s.blueprint.Name != "" {
		var err error
		if pods, err = r.listPods(ctx, s.blueprint); err != nil {
			return obs, err
		}
	}
	for i := range pods {
		if !pods[i].DeletionTimestamp.IsZero() {
			continue
		}
		obs.existing++
		if podReady(&pods[i]) {
			obs.ready++
		}
	}
	sts := &appsv1.StatefulSet{}
	found, err := r.getOptional(ctx, client.ObjectKey{Namespace: s.cluster.GetNamespace(), Name: workload.Names{Cluster: s.cluster.GetName()}.StatefulSet()}, sts)
	if err != nil {
		return obs, err
	}
	if found {
		obs.updated = sts.Status.UpdatedReplicas
		// With OnDelete the controller never moves currentRevision forward, so the
		// count of members at the update revision is what tells a rollout apart.
		obs.rolling = sts.Status.ObservedGeneration < sts.Generation ||
			sts.Status.UpdatedReplicas < sts.Status.Replicas
	}
	return obs, nil
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// phaseOf summarises the observation in one word; see docs/status.md for the rules.
func phaseOf(obs observation, everReady bool, stepErr error) v1alpha1.ClusterPhase {
	switch {
	case stepErr != nil && obs.ready == 0:
		return v1alpha1.PhaseFailed
	case obs.ready == obs.desired && obs.existing == obs.desired && !obs.rolling && stepErr == nil:
		return v1alpha1.PhaseReady
	case !everReady:
		return v1alpha1.PhaseCreating
	case obs.existing != obs.desired:
		return v1alpha1.PhaseScaling
	case obs.rolling:
		return v1alpha1.PhaseUpdating
	default:
		return v1alpha1.PhaseDegraded
	}
}

func setConditions(status *v1alpha1.ClusterStatus, generation int64, obs observation, stepErr error) {
	set := func(t string, ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: generation})
	}
	members := fmt.Sprintf("%d of %d members ready", obs.ready, obs.desired)

	if status.Phase == v1alpha1.PhaseReady {
		set(v1alpha1.ConditionReady, true, ReasonAllMembersReady, members)
	} else {
		set(v1alpha1.ConditionReady, false, ReasonMembersNotReady, members)
	}

	switch status.Phase {
	case v1alpha1.PhaseCreating:
		set(v1alpha1.ConditionProgressing, true, ReasonCreating, members)
	case v1alpha1.PhaseScaling:
		if obs.scaleBlocked != "" {
			set(v1alpha1.ConditionProgressing, true, ReasonScaleDownBlocked, fmt.Sprintf("%d members exist, %d desired; not removing one: %s", obs.existing, obs.desired, obs.scaleBlocked))
			break
		}
		set(v1alpha1.ConditionProgressing, true, ReasonScaling, fmt.Sprintf("%d members exist, %d desired", obs.existing, obs.desired))
	case v1alpha1.PhaseUpdating:
		set(v1alpha1.ConditionProgressing, true, ReasonUpdating, fmt.Sprintf("%d of %d members updated", obs.updated, obs.desired))
	default:
		set(v1alpha1.ConditionProgressing, false, ReasonStable, members)
	}

	switch {
	case stepErr != nil:
		set(v1alpha1.ConditionDegraded, true, reasonFor(stepErr), stepErr.Error())
	case status.Phase == v1alpha1.PhaseDegraded || status.Phase == v1alpha1.PhaseFailed:
		set(v1alpha1.ConditionDegraded, true, ReasonMembersUnhealthy, members)
	default:
		set(v1alpha1.ConditionDegraded, false, ReasonHealthy, members)
	}
}

func reasonFor(err error) string {
	switch {
	case errors.Is(err, ErrCredentialsInvalid):
		return ReasonCredentials
	case errors.Is(err, ErrConfigInvalid):
		return ReasonConfigInvalid
	case errors.Is(err, apply.ErrOwnedByOther):
		return ReasonNameConflict
	default:
		return ReasonReconcileFailed
	}
}
