package dataplane

import (
	"slices"
	"testing"
	"time"
)

var addrs = map[string]string{"r-0": "r-0:6379", "r-1": "r-1:6379", "r-2": "r-2:6379"}

func primary(name string, minReplicas int) MemberState {
	return MemberState{Name: name, Reachable: true, Primary: true, MinReplicasToWrite: minReplicas, GoodReplicas: minReplicas, Offset: 100}
}

func replica(name, of string, linkUp bool, offset int64) MemberState {
	return MemberState{Name: name, Reachable: true, Source: addrs[of], LinkUp: linkUp, Offset: offset}
}

func parked(name string) MemberState {
	return MemberState{Name: name, Reachable: true, Parked: true, Source: "127.0.0.1:1"}
}

func down(name string) MemberState { return MemberState{Name: name, Error: "connection refused"} }

func TestDecide(t *testing.T) {
	cases := []struct {
		name       string
		primary    string
		members    []MemberState
		downFor    time.Duration
		switchTo   string
		manual     bool
		want       State
		newPrimary string
		open       bool
		repoint    []string
		park       []string
	}{
		{name: "bootstrap: every member parked", primary: "r-0", members: []MemberState{parked("r-0"), parked("r-1"), parked("r-2")},
			want: StateBootstrap, open: true, repoint: []string{"r-1", "r-2"}},
		{name: "healthy", primary: "r-0", members: []MemberState{primary("r-0", 1), replica("r-1", "r-0", true, 100), replica("r-2", "r-0", true, 99)},
			want: StateHealthy},
		{name: "linked replicas the primary does not count yet", primary: "r-0", members: []MemberState{
			{Name: "r-0", Reachable: true, Primary: true, MinReplicasToWrite: 1, Offset: 100}, replica("r-1", "r-0", true, 100), replica("r-2", "r-0", true, 99)},
			want: StateDegraded},
		{name: "a syncing replica is left alone", primary: "r-0", members: []MemberState{primary("r-0", 1), replica("r-1", "r-0", false, 0), replica("r-2", "r-0", true, 99)},
			want: StateDegraded},
		{name: "a restarted replica is attached", primary: "r-0", members: []MemberState{primary("r-0", 1), parked("r-1"), replica("r-2", "r-0", true, 99)},
			want: StateDegraded, repoint: []string{"r-1"}},
		{name: "a second master is fenced and attached", primary: "r-1", members: []MemberState{primary("r-0", 1), primary("r-1", 1), replica("r-2", "r-1", true, 99)},
			want: StateDegraded, park: []string{"r-0"}, repoint: []string{"r-0"}},
		{name: "primary lost within grace", primary: "r-0", downFor: time.Second, members: []MemberState{down("r-0"), replica("r-1", "r-0", false, 100), replica("r-2", "r-0", false, 90)},
			want: StatePrimaryLost},
		{name: "replicas still see the primary: no failover", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"), replica("r-1", "r-0", true, 100), replica("r-2", "r-0", true, 90)},
			want: StatePrimaryLost},
		{name: "silent links count as lost", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"),
			{Name: "r-1", Reachable: true, Source: addrs["r-0"], LinkUp: true, LastIO: 4 * time.Second, Offset: 100}, replica("r-2", "r-0", false, 90)},
			want: StateFailover, newPrimary: "r-1"},
		{name: "half the replicas is not a majority", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"), replica("r-1", "r-0", false, 100), replica("r-2", "r-0", true, 90)},
			want: StatePrimaryLost},
		{name: "failover to the highest offset", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"), replica("r-1", "r-0", false, 90), replica("r-2", "r-0", false, 100)},
			want: StateFailover, newPrimary: "r-2"},
		{name: "a parked replica is never a candidate", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"), parked("r-1"), replica("r-2", "r-0", false, 100)},
			want: StateFailover, newPrimary: "r-2"},
		{name: "no candidate: unsafe", primary: "r-0", downFor: time.Minute, members: []MemberState{down("r-0"), parked("r-1"), parked("r-2")},
			want: StateUnsafe},
		{name: "a restarted primary hands over at once", primary: "r-0", members: []MemberState{parked("r-0"), replica("r-1", "r-0", false, 100), replica("r-2", "r-0", false, 120)},
			want: StateFailover, newPrimary: "r-2", repoint: nil},
		{name: "a restarted primary with no replica holding data reopens", primary: "r-0", members: []MemberState{parked("r-0"), parked("r-1"), down("r-2")},
			want: StateBootstrap, open: true, repoint: []string{"r-1"}},
		{name: "manual failover waits", primary: "r-0", downFor: time.Minute, manual: true, members: []MemberState{down("r-0"), replica("r-1", "r-0", false, 90), replica("r-2", "r-0", false, 100)},
			want: StatePrimaryLost},
		{name: "switchover", primary: "r-0", switchTo: "r-1", members: []MemberState{primary("r-0", 1), replica("r-1", "r-0", true, 100), replica("r-2", "r-0", true, 99)},
			want: StateSwitchover, newPrimary: "r-1"},
		{name: "switchover to a member without a link waits", primary: "r-0", switchTo: "r-1", members: []MemberState{primary("r-0", 1), replica("r-1", "r-0", false, 0), replica("r-2", "r-0", true, 99)},
			want: StateDegraded},
		{name: "an unfinished promotion is finished", primary: "r-1", members: []MemberState{primary("r-0", 1), replica("r-1", "r-0", true, 100), replica("r-2", "r-0", true, 99)},
			want: StateSwitchover, newPrimary: "r-1", park: []string{"r-0"}},
	}
	for _, tc := range cases {
		plan := Decide(Observation{Primary: tc.primary, Members: tc.members, Addrs: addrs, PrimaryDownFor: tc.downFor,
			Grace: 5 * time.Second, SwitchoverTo: tc.switchTo, MinReplicas: 1, ManualFailover: tc.manual})
		if plan.State != tc.want || plan.NewPrimary != tc.newPrimary || plan.OpenPrimary != tc.open ||
			!slices.Equal(plan.Repoint, tc.repoint) || !slices.Equal(plan.Park, tc.park) {
			t.Errorf("%s: got %s new=%q open=%v repoint=%v park=%v (%s); want %s new=%q open=%v repoint=%v park=%v",
				tc.name, plan.State, plan.NewPrimary, plan.OpenPrimary, plan.Repoint, plan.Park, plan.Reason,
				tc.want, tc.newPrimary, tc.open, tc.repoint, tc.park)
		}
	}
}
