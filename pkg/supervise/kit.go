package supervise

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

// Kit is what a supervising loop needs from Kubernetes: the manager's client, its
// uncached reader (for what must not be stale: the committed primary), events and a
// logger. The methods are the steps every engine's loop takes around its data plane.
type Kit struct {
	Client   client.Client
	Reader   client.Reader
	Recorder record.EventRecorder
	Log      logr.Logger
}

// ErrPrimaryMoved: status names another primary than the supervisor started from
// (another operator instance, or a commit this one has not seen yet). The loop must
// restart from what status holds.
var ErrPrimaryMoved = errors.New("status.currentPrimary changed under the supervisor")

// CommitPrimary records newPrimary as the cluster's status.currentPrimary before the
// data plane opens it for writes, with an optimistic lock and only while status still
// names old — the one place where two operator instances, or a restarted one, could
// disagree; the later one loses (ErrPrimaryMoved) and restarts from what was
// committed. record writes the engine's own account of the change into the cluster.
func (k Kit) CommitPrimary(ctx context.Context, key client.ObjectKey, newCluster func() v1alpha1.Cluster, old, newPrimary string, record func(v1alpha1.Cluster)) error {
	for attempt := 0; ; attempt++ {
		c := newCluster()
		if err := k.Reader.Get(ctx, key, c); err != nil {
			return fmt.Errorf("reading the cluster: %w", err)
		}
		if cur := c.GetClusterStatus().CurrentPrimary; cur != "" && cur != old {
			return fmt.Errorf("%w: %s, not %s", ErrPrimaryMoved, cur, old)
		}
		patch := client.MergeFromWithOptions(c.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		c.GetClusterStatus().CurrentPrimary = newPrimary
		record(c)
		err := k.Client.Status().Patch(ctx, c, patch)
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing status.currentPrimary: %w", err)
		}
		return nil
	}
}

// SwitchoverRequest is the member the stowage.dev/switchover-to annotation names, or
// "" when there is none or it names no member — then the annotation is removed and a
// SwitchoverRejected Event says why.
func (k Kit) SwitchoverRequest(ctx context.Context, c v1alpha1.Cluster, members []string) string {
	target := c.GetAnnotations()[v1alpha1.AnnotationSwitchoverTo]
	if target == "" || slices.Contains(members, target) {
		return target
	}
	k.Recorder.Eventf(c, corev1.EventTypeWarning, "SwitchoverRejected",
		"%s is not a member of %s (members: %v); annotation removed", target, c.GetName(), members)
	k.removeSwitchoverAnnotation(ctx, c)
	return ""
}

// FinishSwitchover removes a switchover annotation that primary fulfils.
func (k Kit) FinishSwitchover(ctx context.Context, c v1alpha1.Cluster, primary string) {
	if target := c.GetAnnotations()[v1alpha1.AnnotationSwitchoverTo]; target != "" && target == primary {
		k.Recorder.Eventf(c, corev1.EventTypeNormal, "SwitchoverCompleted", "%s is the primary", target)
		k.removeSwitchoverAnnotation(ctx, c)
	}
}

func (k Kit) removeSwitchoverAnnotation(ctx context.Context, c v1alpha1.Cluster) {
	patch := client.MergeFrom(c.DeepCopyObject().(client.Object))
	a := c.GetAnnotations()
	delete(a, v1alpha1.AnnotationSwitchoverTo)
	c.SetAnnotations(a)
	if err := k.Client.Patch(ctx, c, patch); err != nil {
		k.Log.Error(err, "Removing the switchover annotation")
	}
}

// LabelRoles moves the role labels of the cluster's members to primary.
func (k Kit) LabelRoles(ctx context.Context, engine string, key client.ObjectKey, primary string) {
	var pods corev1.PodList
	if err := k.Client.List(ctx, &pods, client.InNamespace(key.Namespace),
		client.MatchingLabels(workload.SelectorLabels(engine, key.Name))); err != nil {
		return
	}
	if err := cluster.LabelRoles(ctx, k.Client, pods.Items, primary); err != nil && ctx.Err() == nil {
		k.Log.Error(err, "Moving role labels")
	}
}

// Announce emits the Event for a replication state the loop just entered. Every
// engine's data plane names its states alike (Healthy, Degraded, PrimaryLost, Unsafe,
// …); failovers and switchovers have their own Events, from the commit.
func (k Kit) Announce(c v1alpha1.Cluster, state, reason string) {
	kind, event := corev1.EventTypeWarning, ""
	switch state {
	case "PrimaryLost":
		event = "PrimaryUnreachable"
	case "Unsafe":
		event = "FailoverBlocked"
	case "Degraded":
		event = "ReplicationDegraded"
	case "Healthy":
		kind, event = corev1.EventTypeNormal, "ReplicationHealthy"
	default:
		return
	}
	k.Recorder.Event(c, kind, event, reason)
}

// NewKit uses the manager's client, its API reader and an event recorder and logger
// named after the engine.
func NewKit(mgr ctrl.Manager, engine string) Kit {
	return Kit{
		Client:   mgr.GetClient(),
		Reader:   mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorderFor("stowage-" + engine),
		Log:      ctrl.Log.WithName(engine + "-supervisor"),
	}
}

// Plane is what every engine's Supervisors hold: the Kubernetes kit, the goroutine
// registry, and how members are reached.
type Plane struct {
	Kit
	*Registry
	AddressOf AddressFunc
}

// NewPlane builds an engine's Plane on the manager; its goroutines stop with the
// manager.
func NewPlane(mgr ctrl.Manager, engine string, addressOf AddressFunc) (Plane, error) {
	p := Plane{Kit: NewKit(mgr, engine), Registry: NewRegistry(), AddressOf: addressOf}
	if err := mgr.Add(p.Registry); err != nil {
		return Plane{}, fmt.Errorf("adding the %s supervisors to the manager: %w", engine, err)
	}
	return p, nil
}

// Credentials reads the cluster's credentials Secret.
func (p Plane) Credentials(ctx context.Context, bp workload.Blueprint) (map[string][]byte, error) {
	secret := &corev1.Secret{}
	if err := p.Client.Get(ctx, client.ObjectKey{Namespace: bp.Namespace, Name: bp.SecretName}, secret); err != nil {
		return nil, fmt.Errorf("reading the credentials: %w", err)
	}
	return secret.Data, nil
}

// Members names the first n members and the addresses they are reached at.
func (p Plane) Members(bp workload.Blueprint, n int32) (names, addrs []string) {
	nm := bp.Names()
	for i := range int(n) {
		names = append(names, nm.Pod(i))
		addrs = append(addrs, p.AddressOf(bp.Namespace, nm.HeadlessService(), nm.Pod(i)))
	}
	return names, addrs
}
