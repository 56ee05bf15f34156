package mysql

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

func TestSemiSyncAcks(t *testing.T) {
	on, off := v1alpha1.MySQLReplicationSpec{}, v1alpha1.MySQLReplicationSpec{SemiSync: ptr.To(false)}
	cases := []struct {
		spec    v1alpha1.MySQLReplicationSpec
		members int32
		want    int
	}{
		{on, 1, 0}, {on, 2, 1}, {on, 3, 1}, {on, 4, 2}, {on, 5, 2}, {on, 9, 4}, {off, 3, 0},
	}
	for _, tc := range cases {
		if got := semiSyncAcks(tc.spec, tc.members); got != tc.want {
			t.Errorf("semiSyncAcks(%d members, semiSync %v) = %d, want %d", tc.members, tc.spec.SemiSync, got, tc.want)
		}
	}
}

func TestReplicationStatusAndSync(t *testing.T) {
	lag := func(n int64) *int64 { return &n }
	primary := dataplane.MemberState{Name: "db-0", Reachable: true, GTID: "0-1000-9"}
	following := dataplane.MemberState{Name: "db-1", Reachable: true, ReadOnly: true, Replica: true, IORunning: true, SQLRunning: true, LagSeconds: lag(0), GTID: "0-1000-9"}
	lagging := following
	lagging.Name, lagging.LagSeconds = "db-2", lag(30)
	rebuilding := dataplane.MemberState{Name: "db-2", Rebuilding: true, Error: "being rebuilt from the primary"}
	down := dataplane.MemberState{Name: "db-2", Error: "connection refused"}
	healthy := dataplane.Plan{State: dataplane.StateHealthy}

	cases := []struct {
		name   string
		plan   dataplane.Plan
		states []dataplane.MemberState
		roles  []string
		inSync bool
	}{
		{"all caught up", healthy, []dataplane.MemberState{primary, following}, []string{"Primary", "Replica"}, true},
		{"a lagging replica holds scaling", healthy, []dataplane.MemberState{primary, following, lagging}, []string{"Primary", "Replica", "Replica"}, false},
		{"a rebuild holds scaling", dataplane.Plan{State: dataplane.StateDegraded}, []dataplane.MemberState{primary, following, rebuilding}, []string{"Primary", "Replica", "Rebuilding"}, false},
		{"an unreachable member is Unknown", dataplane.Plan{State: dataplane.StateDegraded}, []dataplane.MemberState{primary, following, down}, []string{"Primary", "Replica", "Unknown"}, false},
	}
	for _, tc := range cases {
		st := replicationStatus(tc.plan, tc.states, "db-0", metav1.Now())
		for i, m := range st.Members {
			if m.Role != tc.roles[i] {
				t.Errorf("%s: %s is %s, want %s", tc.name, m.Name, m.Role, tc.roles[i])
			}
		}
		if got := inSync(tc.plan, tc.states, "db-0"); got != tc.inSync {
			t.Errorf("%s: inSync %v, want %v", tc.name, got, tc.inSync)
		}
	}
	// Positions and lag alone do not make a status worth writing at once; a role does.
	a := replicationStatus(healthy, []dataplane.MemberState{primary, following}, "db-0", metav1.Now())
	moved := following
	moved.GTID, moved.LagSeconds = "0-1000-10", lag(1)
	b := replicationStatus(healthy, []dataplane.MemberState{primary, moved}, "db-0", metav1.Now())
	if !sameShape(a, b) {
		t.Errorf("moving positions changed the status shape")
	}
	c := replicationStatus(healthy, []dataplane.MemberState{primary, down}, "db-0", metav1.Now())
	if sameShape(a, c) {
		t.Errorf("a member going down did not change the status shape")
	}
}

// A supervisor restarts only when its settings change, not on every reconcile: the
// spec read anew each time holds new pointers to the same values.
func TestSettingsFingerprintComparesValues(t *testing.T) {
	read := func() settings {
		return settings{members: []string{"db-0"}, spec: v1alpha1.MySQLReplicationSpec{
			SemiSync: ptr.To(true), FailoverGrace: &metav1.Duration{Duration: 5 * time.Second}}}
	}
	if read().fingerprint() != read().fingerprint() {
		t.Errorf("equal settings give different fingerprints")
	}
	changed := read()
	changed.spec.FailoverGrace.Duration = 6 * time.Second
	if changed.fingerprint() == read().fingerprint() {
		t.Errorf("a changed grace keeps the fingerprint")
	}
}

func TestPrimaryHandover(t *testing.T) {
	names := workload.Names{Cluster: "db"}
	follows := func(name string) dataplane.MemberState {
		return dataplane.MemberState{Name: name, Reachable: true, Replica: true, IORunning: true}
	}
	lost := dataplane.MemberState{Name: "db-1", Reachable: false}
	primary := dataplane.MemberState{Name: "db-0", Reachable: true}
	cases := []struct {
		name       string
		primary    string
		replicas   int32
		vacate     string
		states     []dataplane.MemberState
		wantReason string
		wantTarget string
	}{
		{"steady", "db-0", 3, "", []dataplane.MemberState{primary, follows("db-1"), follows("db-2")}, "", ""},
		{"rollout restarts the primary last", "db-0", 3, "db-0", []dataplane.MemberState{primary, follows("db-1"), follows("db-2")}, "SwitchoverForRestart", "db-1"},
		{"a stale request for another member", "db-0", 3, "db-2", []dataplane.MemberState{primary, follows("db-1"), follows("db-2")}, "", ""},
		{"an unreachable member is skipped", "db-0", 3, "db-0", []dataplane.MemberState{primary, lost, follows("db-2")}, "SwitchoverForRestart", "db-2"},
		{"scale-down past the primary", "db-3", 3, "", []dataplane.MemberState{follows("db-0"), follows("db-1"), follows("db-2"), {Name: "db-3", Reachable: true}}, "SwitchoverForScaleDown", "db-0"},
		{"no member to hand over to", "db-0", 3, "db-0", []dataplane.MemberState{primary, lost}, "SwitchoverForRestart", ""},
	}
	for _, tc := range cases {
		reason, _ := supervise.PrimaryMustLeave(names, tc.primary, tc.replicas, tc.vacate)
		if reason != tc.wantReason {
			t.Errorf("%s: reason %q, want %q", tc.name, reason, tc.wantReason)
		}
		if reason == "" {
			continue
		}
		if got := successor(tc.states, names, tc.primary, tc.replicas); got != tc.wantTarget {
			t.Errorf("%s: successor %q, want %q", tc.name, got, tc.wantTarget)
		}
	}
}
