package dataplane

import (
	"reflect"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	addrs := map[string]string{"db-0": "db-0:3306", "db-1": "db-1:3306", "db-2": "db-2:3306"}
	primary := func(gtid string) MemberState {
		return MemberState{Name: "db-0", Reachable: true, GTID: gtid, SemiSync: true}
	}
	replica := func(name, of, gtid string) MemberState {
		return MemberState{Name: name, Reachable: true, ReadOnly: true, Replica: true, SourceHost: of, SourcePort: 3306, IORunning: true, SQLRunning: true, GTID: gtid}
	}
	lostLink := func(m MemberState) MemberState { m.IORunning = false; return m }
	connectingTo := func(m MemberState) MemberState { m.IORunning, m.IOConnecting = false, true; return m }
	down := func(name string) MemberState { return MemberState{Name: name, Error: "connection refused"} }
	fresh := func(name string) MemberState { return MemberState{Name: name, Reachable: true} }

	cases := []struct {
		name string
		obs  Observation
		want Plan
	}{
		{"new cluster: bootstrap, fence the fresh members and attach them",
			Observation{Primary: "db-0", Members: []MemberState{primary(""), fresh("db-1"), fresh("db-2")}},
			Plan{State: StateBootstrap, Fence: []string{"db-1", "db-2"}, Repoint: []string{"db-1", "db-2"}}},
		{"healthy",
			Observation{Primary: "db-0", Members: []MemberState{primary("0-1000-9"), replica("db-1", "db-0", "0-1000-9"), replica("db-2", "db-0", "0-1000-9")}},
			Plan{State: StateHealthy}},
		{"a read-only primary is opened",
			Observation{Primary: "db-0", Members: []MemberState{{Name: "db-0", Reachable: true, ReadOnly: true, SemiSync: true}, replica("db-1", "db-0", ""), replica("db-2", "db-0", "")}},
			Plan{State: StateHealthy, OpenPrimary: true}},
		{"a primary committing asynchronously gets semi-sync",
			Observation{Primary: "db-0", Members: []MemberState{{Name: "db-0", Reachable: true}, replica("db-1", "db-0", ""), replica("db-2", "db-0", "")}},
			Plan{State: StateHealthy, ConfigureSemiSync: true}},
		{"a replica following the wrong source is repointed",
			Observation{Primary: "db-0", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), replica("db-2", "db-1", "")}},
			Plan{State: StateDegraded, Repoint: []string{"db-2"}}},
		{"a replica still connecting to the primary is left to finish",
			Observation{Primary: "db-0", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), connectingTo(replica("db-2", "db-0", ""))}},
			Plan{State: StateDegraded}},
		{"a replica whose IO thread stopped is repointed",
			Observation{Primary: "db-0", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), lostLink(replica("db-2", "db-0", ""))}},
			Plan{State: StateDegraded, Repoint: []string{"db-2"}}},
		{"a replica that is down degrades the cluster",
			Observation{Primary: "db-0", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), down("db-2")}},
			Plan{State: StateDegraded}},
		{"primary down within the grace period: wait",
			Observation{Primary: "db-0", PrimaryDownFor: 2 * time.Second, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-9")), lostLink(replica("db-2", "db-0", "0-1000-8"))}},
			Plan{State: StatePrimaryLost}},
		{"primary down for the operator only: replicas still see it, wait",
			Observation{Primary: "db-0", PrimaryDownFor: time.Minute, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), replica("db-1", "db-0", "0-1000-9"), replica("db-2", "db-0", "0-1000-9")}},
			Plan{State: StatePrimaryLost}},
		{"one replica of two lost it and the other is down: no majority, wait",
			Observation{Primary: "db-0", PrimaryDownFor: time.Minute, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-9")), down("db-2")}},
			Plan{State: StatePrimaryLost}},
		{"failover promotes the most advanced replica",
			Observation{Primary: "db-0", PrimaryDownFor: 6 * time.Second, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-8")), lostLink(replica("db-2", "db-0", "0-1000-9"))}},
			Plan{State: StateFailover, NewPrimary: "db-2"}},
		{"failover with equal replicas prefers the lowest ordinal",
			Observation{Primary: "db-0", PrimaryDownFor: 6 * time.Second, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-9")), lostLink(replica("db-2", "db-0", "0-1000-9"))}},
			Plan{State: StateFailover, NewPrimary: "db-1"}},
		{"diverged replicas: never promote",
			Observation{Primary: "db-0", PrimaryDownFor: 6 * time.Second, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-9,1-1001-1")), lostLink(replica("db-2", "db-0", "0-1000-10"))}},
			Plan{State: StateUnsafe}},
		{"a writable non-primary is fenced even while the primary is lost",
			Observation{Primary: "db-0", PrimaryDownFor: time.Second, Grace: 5 * time.Second,
				Members: []MemberState{down("db-0"), {Name: "db-1", Reachable: true}, lostLink(replica("db-2", "db-0", ""))}},
			Plan{State: StatePrimaryLost, Fence: []string{"db-1"}}},
		{"switchover to a reachable member",
			Observation{Primary: "db-0", SwitchoverTo: "db-2", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), replica("db-2", "db-0", "")}},
			Plan{State: StateSwitchover, NewPrimary: "db-2"}},
		{"switchover to an unreachable member waits (and the cluster is degraded)",
			Observation{Primary: "db-0", SwitchoverTo: "db-2", Members: []MemberState{primary(""), replica("db-1", "db-0", ""), down("db-2")}},
			Plan{State: StateDegraded}},
		{"a replica ahead of the primary is errant: rebuilt, never repointed",
			Observation{Primary: "db-0", RebuildErrant: true, Members: []MemberState{primary("0-1000-9"), replica("db-1", "db-0", "0-1000-9"), lostLink(replica("db-2", "db-0", "0-1000-9,1-1002-1"))}},
			Plan{State: StateDegraded, Diverged: map[string]string{"db-2": "x"}, Rebuild: []string{"db-2"}}},
		{"an errant replica is isolated when rebuilds are off",
			Observation{Primary: "db-0", Members: []MemberState{primary("0-1000-9"), replica("db-1", "db-0", "0-1000-9"), replica("db-2", "db-0", "0-1000-10")}},
			Plan{State: StateDegraded, Diverged: map[string]string{"db-2": "x"}, Isolate: []string{"db-2"}}},
		{"a replica the primary's binlog cannot serve (1236) has diverged",
			Observation{Primary: "db-0", RebuildErrant: true, Members: []MemberState{primary("0-1001-20"), replica("db-1", "db-0", "0-1001-20"),
				func() MemberState {
					m := lostLink(replica("db-2", "db-0", "0-1000-12"))
					m.LastIOErrno = 1236
					return m
				}()}},
			Plan{State: StateDegraded, Diverged: map[string]string{"db-2": "x"}, Rebuild: []string{"db-2"}}},
		{"a fresh member of a primary that purged early binlogs must be seeded",
			Observation{Primary: "db-0", RebuildErrant: true, Members: []MemberState{func() MemberState { p := primary("0-1000-20"); p.Purged = "0-1000-14"; return p }(),
				replica("db-1", "db-0", "0-1000-20"), fresh("db-2")}},
			Plan{State: StateDegraded, Fence: []string{"db-2"}, Diverged: map[string]string{"db-2": "x"}, Rebuild: []string{"db-2"}}},
		{"automatic failover off: a lost primary waits for a human",
			Observation{Primary: "db-0", PrimaryDownFor: time.Minute, Grace: 5 * time.Second, ManualFailover: true,
				Members: []MemberState{down("db-0"), lostLink(replica("db-1", "db-0", "0-1000-9")), lostLink(replica("db-2", "db-0", "0-1000-9"))}},
			Plan{State: StatePrimaryLost}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.obs.Addrs, tc.obs.Contains, tc.obs.Errant, tc.obs.SemiSync = addrs, MariaDBContains, MariaDBErrant, true
			got := Decide(tc.obs)
			got.Reason = ""
			for name := range got.Diverged {
				got.Diverged[name] = "x" // the reasons are for humans
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMariaDBErrant(t *testing.T) {
	cases := []struct{ primary, member, want string }{
		{"0-1000-9", "0-1000-9", ""},
		{"0-1000-9", "0-1000-5", ""},
		{"0-1000-9", "0-1000-10", "0-1000-10"},
		{"0-1000-9", "0-1000-9,1-1002-3", "1-1002-3"},
		{"0-1001-20,1-1002-3", "0-1000-12", ""},
	}
	for _, tc := range cases {
		if got, err := MariaDBErrant(tc.primary, tc.member); err != nil || got != tc.want {
			t.Errorf("MariaDBErrant(%q, %q) = %q, %v; want %q", tc.primary, tc.member, got, err, tc.want)
		}
	}
}
