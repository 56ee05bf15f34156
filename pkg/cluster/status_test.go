package cluster

import (
	"errors"
	"testing"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestPhaseOf(t *testing.T) {
	failure := errors.New("boom")
	cases := []struct {
		name      string
		obs       observation
		everReady bool
		err       error
		want      v1alpha1.ClusterPhase
	}{
		{"new cluster, nothing ready", observation{desired: 3}, false, nil, v1alpha1.PhaseCreating},
		{"new cluster, some ready", observation{desired: 3, existing: 2, ready: 2}, false, nil, v1alpha1.PhaseCreating},
		{"all ready", observation{desired: 3, existing: 3, ready: 3}, false, nil, v1alpha1.PhaseReady},
		{"all ready but rolling", observation{desired: 3, existing: 3, ready: 3, rolling: true}, true, nil, v1alpha1.PhaseUpdating},
		{"scaling up", observation{desired: 5, existing: 3, ready: 3}, true, nil, v1alpha1.PhaseScaling},
		{"scaling down", observation{desired: 3, existing: 5, ready: 5}, true, nil, v1alpha1.PhaseScaling},
		{"a member lost", observation{desired: 3, existing: 3, ready: 2}, true, nil, v1alpha1.PhaseDegraded},
		{"reconcile failing while serving", observation{desired: 3, existing: 3, ready: 3}, true, failure, v1alpha1.PhaseDegraded},
		{"reconcile failing, nothing serves", observation{desired: 3}, true, failure, v1alpha1.PhaseFailed},
	}
	for _, tc := range cases {
		if got := phaseOf(tc.obs, tc.everReady, tc.err); got != tc.want {
			t.Errorf("%s: phase %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestWasEverReady(t *testing.T) {
	cases := map[v1alpha1.ClusterPhase]bool{
		"": false, v1alpha1.PhaseCreating: false, v1alpha1.PhaseFailed: false,
		v1alpha1.PhaseReady: true, v1alpha1.PhaseScaling: true, v1alpha1.PhaseUpdating: true, v1alpha1.PhaseDegraded: true,
	}
	for phase, want := range cases {
		if got := wasEverReady(&v1alpha1.ClusterStatus{Phase: phase}); got != want {
			t.Errorf("phase %q: everReady %v, want %v", phase, got, want)
		}
	}
}
