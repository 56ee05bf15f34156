package nats

import (
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/clustertest"
	"github.com/stowage/stowage/internal/testenv"
)

var env testenv.Shared

func TestMain(m *testing.M) { os.Exit(env.Run(m)) }

var envtestCase = clustertest.Case{
	Engine: NewEngine(DefaultOptions()),
	New: func(meta metav1.ObjectMeta, w v1alpha1.WorkloadSpec) v1alpha1.Cluster {
		return &v1alpha1.NATSCluster{ObjectMeta: meta, Spec: v1alpha1.NATSClusterSpec{WorkloadSpec: w}}
	},
	ConfigFile: configFile,
	// A parameter a running server cannot reload: changing it restarts members
	// (reloadable ones do not; see TestWhatRestartsMembers).
	Parameter: "max_pending", ParameterValue: "67108864",
}

// TestEnvtest runs the scenario every engine passes against a real API server.
func TestEnvtest(t *testing.T) { clustertest.Run(t, env.Get(t), envtestCase) }
