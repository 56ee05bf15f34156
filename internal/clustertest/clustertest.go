// Package clustertest is the envtest scenario every engine's controller must pass: the
// whole object set appears with the right shape, spec changes reach it, users' own
// labels survive, status follows the members, and deletion keeps or removes volumes as
// the retention policy says. Each engine runs it from its own package with a Case.
package clustertest

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

// Case is what the scenario needs to know about one engine.
type Case struct {
	Engine cluster.Engine
	// New returns a cluster resource of the engine's kind with the given common spec.
	New func(meta metav1.ObjectMeta, w v1alpha1.WorkloadSpec) v1alpha1.Cluster
	// ConfigFile is the ConfigMap key holding the rendered configuration.
	ConfigFile string
	// Parameter is a user parameter that must show up in the rendered configuration.
	Parameter, ParameterValue string
}

// StartManager runs the engine's controller against the Env until the test ends. The
// engine's data plane is hidden: envtest runs no database server.
func StartManager(t *testing.T, e *testenv.Env, engine cluster.Engine) {
	t.Helper()
	mgr := NewManager(t, e)
	if err := cluster.Register(mgr, objectsOnly{engine}); err != nil {
		t.Fatalf("registering the %s controller: %v", engine.Name(), err)
	}
	Start(t, mgr)
}

// NewManager is a manager for the Env, for tests that register controllers themselves
// (with a data plane against real servers, for example).
func NewManager(t *testing.T, e *testenv.Env) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Each test starts its own manager in the same process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("creating the manager: %v", err)
	}
	return mgr
}

// Start runs the manager until the test ends.
func Start(t *testing.T, mgr ctrl.Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// objectsOnly hides an engine's data-plane manager: envtest runs no database server,
// so the reconciler manages objects only, as it does for an engine without one.
type objectsOnly struct{ cluster.Engine }

func workloadSpec(replicas int32, whenDeleted v1alpha1.VolumeRetention) v1alpha1.WorkloadSpec {
	return v1alpha1.WorkloadSpec{
		Replicas: replicas,
		Storage: v1alpha1.StorageSpec{
			StorageClassName: ptr.To("standard"),
			Size:             resource.MustParse("1Gi"),
			RetentionPolicy:  v1alpha1.VolumeRetentionPolicy{WhenDeleted: whenDeleted, WhenScaled: v1alpha1.VolumeRetain},
		},
		Scheduling: v1alpha1.SchedulingSpec{AntiAffinity: v1alpha1.AntiAffinityPreferred, TopologyKey: "kubernetes.io/hostname"},
	}
}

func names(c v1alpha1.Cluster) workload.Names { return workload.Names{Cluster: c.GetName()} }

// Run runs the whole scenario for one engine as subtests.
func Run(t *testing.T, e *testenv.Env, tc Case) {
	t.Run("Lifecycle", func(t *testing.T) { RunLifecycle(t, e, tc) })
	t.Run("DeleteVolumes", func(t *testing.T) { RunDeleteVolumes(t, e, tc) })
	t.Run("UserSecret", func(t *testing.T) { RunUserSecret(t, e, tc) })
	t.Run("Rollout", func(t *testing.T) { RunRollout(t, e, tc) })
	t.Run("RestoreFrom", func(t *testing.T) { RunRestoreFrom(t, e, tc) })
}
