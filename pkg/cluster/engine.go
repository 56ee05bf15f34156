package cluster

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

// Engine is what one engine contributes to the shared reconciler.
type Engine interface {
	// Name is the engine's label value: mysql, redis or nats.
	Name() string
	// GroupVersionKind of the engine's cluster resource.
	GroupVersionKind() schema.GroupVersionKind
	// NewCluster returns an empty cluster resource of the engine's kind.
	NewCluster() v1alpha1.Cluster
	// Blueprint describes the cluster's desired workload. It must be pure: the same
	// cluster always gives the same Blueprint.
	Blueprint(c v1alpha1.Cluster) (workload.Blueprint, error)
}

// Identity is the part of an Engine that only names things; engines embed it.
type Identity struct {
	// EngineName is the label value: mysql, redis or nats.
	EngineName string
	// Kind of the engine's cluster resource in stowage.dev/v1alpha1.
	Kind string
	// New returns an empty cluster resource of that kind.
	New func() v1alpha1.Cluster
}

func (i Identity) Name() string { return i.EngineName }

func (i Identity) GroupVersionKind() schema.GroupVersionKind {
	return v1alpha1.GroupVersion.WithKind(i.Kind)
}

func (i Identity) NewCluster() v1alpha1.Cluster { return i.New() }

// DataPlane is implemented by engines whose members need a manager that talks to them
// (replication, failover). The reconciler keeps one running per cluster and asks it
// before moving role labels or the number of members.
type DataPlane interface {
	// Supervise starts the cluster's manager, or restarts it when what it manages
	// changed (members, credentials, settings). It returns quickly: the manager runs
	// on its own.
	Supervise(ctx context.Context, c v1alpha1.Cluster, bp workload.Blueprint, members int32) error
	// Forget stops the manager of a cluster that is gone.
	Forget(key client.ObjectKey)
	// Primary is the member the manager treats as primary; ok is false when no manager
	// runs for the cluster.
	Primary(key client.ObjectKey) (primary string, ok bool)
	// SyncedAt is when the manager's latest pass began if it found every existing
	// member following the primary and caught up; zero when that pass did not. The
	// reconciler adds or restarts the next member only once a pass that began after
	// the last member became ready found the cluster in sync.
	SyncedAt(key client.ObjectKey) time.Time
	// Vacate asks the manager to switch the primary role from member to another
	// member, so that member can be restarted; "" withdraws the request. The
	// reconciler repeats it every pass while it holds.
	Vacate(key client.ObjectKey, member string)
}

// ScaleDownGate is implemented by data planes that must agree before a member is
// removed.
type ScaleDownGate interface {
	// ScaleDownBlocker says why member may not be removed now; "" when it may.
	ScaleDownBlocker(key client.ObjectKey, member string) string
}
