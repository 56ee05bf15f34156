package redis

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/pkg/workload"
)

func TestMinAndWaitReplicas(t *testing.T) {
	unset, two, zero := v1alpha1.RedisReplicationSpec{}, v1alpha1.RedisReplicationSpec{MinReplicasToWrite: ptr.To[int32](2)}, v1alpha1.RedisReplicationSpec{MinReplicasToWrite: ptr.To[int32](0)}
	cases := []struct {
		spec     v1alpha1.RedisReplicationSpec
		members  int32
		min      int
		waitRepl int32
	}{
		{unset, 1, 0, 0}, {unset, 2, 1, 1}, {unset, 3, 1, 1}, {unset, 5, 1, 2},
		{two, 2, 1, 1}, {two, 3, 2, 1}, {zero, 3, 0, 1},
	}
	for _, tc := range cases {
		if got := minReplicas(tc.spec, tc.members); got != tc.min {
			t.Errorf("minReplicas(%v, %d members) = %d, want %d", tc.spec.MinReplicasToWrite, tc.members, got, tc.min)
		}
		if got := waitReplicas(tc.members); got != tc.waitRepl {
			t.Errorf("waitReplicas(%d members) = %d, want %d", tc.members, got, tc.waitRepl)
		}
	}
}

func TestReplicationStatusAndSync(t *testing.T) {
	healthy := dataplane.Plan{State: dataplane.StateHealthy}
	states := []dataplane.MemberState{
		{Name: "r-0", Reachable: true, Primary: true, Offset: 1000},
		{Name: "r-1", Reachable: true, Source: "r-0:6379", LinkUp: true, Offset: 990},
		{Name: "r-2", Reachable: true, Parked: true, Source: "127.0.0.1:1"},
		{Name: "r-3", Error: "refused"},
	}
	st := replicationStatus(healthy, states, "r-0", 1, metav1.Now())
	roles := []string{"Primary", "Replica", "Parked", "Unknown"}
	for i, m := range st.Members {
		if m.Role != roles[i] {
			t.Errorf("%s: role %s, want %s", m.Name, m.Role, roles[i])
		}
	}
	if lag := st.Members[1].LagBytes; lag == nil || *lag != 10 {
		t.Errorf("lag of r-1: %v, want 10", lag)
	}
	if inSync(healthy, states[:2], "r-0") != true || inSync(healthy, states[:3], "r-0") || inSync(dataplane.Plan{State: dataplane.StateDegraded}, states[:2], "r-0") {
		t.Errorf("inSync: only a healthy cluster whose replicas all have live links is in sync")
	}
	names := workload.Names{Cluster: "r"}
	if got := successor(states, names, "r-0", "r-0:6379", 3); got != "r-1" {
		t.Errorf("successor = %q, want r-1 (linked, stays)", got)
	}
	if got := successor(states, names, "r-0", "r-0:6379", 1); got != "" {
		t.Errorf("successor when scaling to 1 = %q, want none", got)
	}
}
