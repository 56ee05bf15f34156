package nats

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/supervise"
)

// +kubebuilder:rbac:groups=stowage.dev,resources=natsclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=stowage.dev,resources=natsclusters/status,verbs=get;update;patch

// Setup registers the NATSCluster controller, with a JetStream watcher per cluster
// that reaches members by their stable DNS names.
func Setup(mgr ctrl.Manager, opts Options) error {
	e := NewEngine(opts)
	var err error
	if e.Supervisors, err = NewSupervisors(mgr, supervise.PodDNS(clientPort)); err != nil {
		return err
	}
	return cluster.Register(mgr, e)
}
