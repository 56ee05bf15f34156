package cluster

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
)

func TestNextReplicas(t *testing.T) {
	sts := func(spec, have, ready int32, observed bool) *appsv1.StatefulSet {
		s := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(spec)}}
		s.Generation = 2
		s.Status = appsv1.StatefulSetStatus{Replicas: have, ReadyReplicas: ready, ObservedGeneration: 1}
		if observed {
			s.Status.ObservedGeneration = 2
		}
		return s
	}
	inSync := scaleGate{inSync: true}
	cases := []struct {
		name   string
		sts    *appsv1.StatefulSet
		target int32
		gate   scaleGate
		want   int32
	}{
		{"steady", sts(3, 3, 3, true), 3, inSync, 3},
		{"scale up by one when all ready", sts(3, 3, 3, true), 5, inSync, 4},
		{"wait while the new member is not ready", sts(4, 4, 3, true), 5, inSync, 4},
		{"wait until the new member exists", sts(4, 3, 3, true), 5, inSync, 4},
		{"wait until the controller saw the last change", sts(3, 3, 3, false), 5, inSync, 3},
		{"scale down by one", sts(5, 5, 5, true), 3, inSync, 4},
		{"scale down even with an unready member", sts(5, 5, 4, true), 3, inSync, 4},
		{"wait until the removed member is gone", sts(4, 5, 4, true), 3, inSync, 4},
		{"wait while members catch up", sts(3, 3, 3, true), 5, scaleGate{inSync: false}, 3},
		{"never remove the primary", sts(5, 5, 5, true), 3, scaleGate{inSync: true, keep: 5}, 5},
		{"remove down to the primary", sts(5, 5, 5, true), 3, scaleGate{inSync: true, keep: 4}, 4},
		{"the data plane holds a removal back", sts(5, 5, 5, true), 3, scaleGate{inSync: true, blocked: "stream has 5 replicas"}, 5},
	}
	for _, tc := range cases {
		if got := nextReplicas(tc.sts, tc.target, tc.gate); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
