package cluster

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

// Shared RBAC of every engine controller. Alphabetical, so nothing is repeated or missed.
// +kubebuilder:rbac:groups="",resources=configmaps;secrets;services,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch

// Reconciler keeps one engine's clusters in shape.
type Reconciler struct {
	client.Client
	Engine   Engine
	Recorder record.EventRecorder
}

// state is what one reconcile pass knows about a cluster.
type state struct {
	cluster   v1alpha1.Cluster
	blueprint workload.Blueprint
	pods      []corev1.Pod
	// requeue asks for another pass after this long (0: only when something changes).
	requeue time.Duration
	// scaleBlocked says why the data plane holds a scale-down back.
	scaleBlocked string
	// replicasCap, when set, holds the StatefulSet at that many members (a new
	// cluster being filled by spec.restoreFrom).
	replicasCap int32
}

// requeueAfter asks for another pass within d, keeping the soonest of several asks.
func (s *state) requeueAfter(d time.Duration) {
	if s.requeue == 0 || d < s.requeue {
		s.requeue = d
	}
}

// step is one named concern of a reconcile pass; steps run in order and a failing one
// stops the pass, so later steps can rely on earlier ones.
type step struct {
	name string
	run  func(ctx context.Context, s *state) error
}

func (r *Reconciler) steps() []step {
	return []step{
		{"credentials", r.reconcileCredentials},
		{"configuration", r.reconcileConfig},
		{"services", r.reconcileServices},
		{"restore gate", r.restoreGate},
		{"statefulset", r.reconcileStatefulSet},
		{"volumes", r.reconcileVolumes},
		{"disruption budget", r.reconcileDisruptionBudget},
		{"roles", r.reconcileRoles},
		{"data plane", r.reconcileDataPlane},
		{"restore from backup", r.reconcileRestoreFrom},
		{"rollout", r.reconcileRollout},
	}
}

// Reconcile brings one cluster's objects to the shape its spec describes, then
// reports what it sees. It is level-based: it never asks what event woke it.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := r.Engine.NewCluster()
	if err := r.Get(ctx, req.NamespacedName, c); err != nil {
		if apierrors.IsNotFound(err) {
			r.forgetDataPlane(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !c.GetDeletionTimestamp().IsZero() {
		// Owner references let the garbage collector remove what the cluster owns.
		r.forgetDataPlane(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	original := c.DeepCopyObject().(v1alpha1.Cluster)

	bp, err := r.Engine.Blueprint(c)
	if err != nil {
		return r.finish(ctx, original, &state{cluster: c}, fmt.Errorf("describing the workload: %w", err))
	}
	s := &state{cluster: c, blueprint: bp}
	for _, st := range r.steps() {
		if err := st.run(ctx, s); err != nil {
			return r.finish(ctx, original, s, fmt.Errorf("%s: %w", st.name, err))
		}
	}
	return r.finish(ctx, original, s, nil)
}

// finish writes status whatever happened, so that a failure is visible on the
// resource and not only in the operator's log.
func (r *Reconciler) finish(ctx context.Context, original v1alpha1.Cluster, s *state, stepErr error) (reconcile.Result, error) {
	if stepErr != nil {
		log.FromContext(ctx).Error(stepErr, "Reconcile failed")
		r.Recorder.Event(s.cluster, corev1.EventTypeWarning, "ReconcileFailed", stepErr.Error())
	}
	if err := r.updateStatus(ctx, original, s, stepErr); err != nil {
		if stepErr == nil {
			return reconcile.Result{}, err
		}
		log.FromContext(ctx).Error(err, "Status update failed")
	}
	if stepErr != nil {
		return reconcile.Result{}, stepErr
	}
	return reconcile.Result{RequeueAfter: s.requeue}, nil
}

// SetupWithManager registers the reconciler for the engine's kind.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	engine := r.Engine.Name()
	return ctrl.NewControllerManagedBy(mgr).
		Named(engine).
		For(r.Engine.NewCluster(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&v1alpha1.Restore{}).
		// Members are owned by the StatefulSet, not the cluster: map them back by label
		// to keep role labels and readiness current.
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			l := o.GetLabels()
			if l[workload.LabelName] != engine || l[workload.LabelManagedBy] != workload.ManagedBy || l[workload.LabelInstance] == "" {
				return nil
			}
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: l[workload.LabelInstance]}}}
		})).
		Complete(r)
}

func (r *Reconciler) listPods(ctx context.Context, bp workload.Blueprint) ([]corev1.Pod, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(bp.Namespace), client.MatchingLabels(workload.SelectorLabels(bp.Engine, bp.Name))); err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	return pods.Items, nil
}

// getOptional reads an object that may not exist yet.
func (r *Reconciler) getOptional(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// Register adds a reconciler for the engine's kind to the manager.
func Register(mgr ctrl.Manager, engine Engine) error {
	r := &Reconciler{
		Client:   mgr.GetClient(),
		Engine:   engine,
		Recorder: mgr.GetEventRecorderFor("stowage-" + engine.Name()),
	}
	return r.SetupWithManager(mgr)
}
