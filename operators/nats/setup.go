package nats

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/stowage/stowage/pkg/cluster"
)

// +kubebuilder:rbac:groups=stowage.dev,resources=natsclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=stowage.dev,resources=natsclusters/status,verbs=get;update;patch

// Setup registers the NATSCluster controller with the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	return cluster.Register(mgr, NewEngine(opts))
}
