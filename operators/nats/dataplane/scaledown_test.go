package dataplane

import (
	"strings"
	"testing"
)

func TestScaleDownBlocker(t *testing.T) {
	healthy := func(servers int, replicas ...int) Health {
		h := Health{MetaLeader: "n-0"}
		for i := range servers {
			h.Servers = append(h.Servers, "n-"+string(rune('0'+i)))
		}
		for i, r := range replicas {
			h.Streams = append(h.Streams, Stream{Account: "APP", Name: "S" + string(rune('0'+i)), Replicas: r, Leader: "n-0", Peers: h.Servers[:r]})
		}
		return h
	}
	lagging := healthy(4, 3)
	lagging.Streams[0].Lagging = []string{"n-2"}
	noLeader := healthy(4, 3)
	noLeader.MetaLeader = ""
	cases := []struct {
		name    string
		h       Health
		leaving string
		want    string
		members int // the cluster's servers now; the meta group's when 0
	}{
		{"five to four, four to three while n-4 is still in the meta group", healthy(5, 3), "n-3", "n-4, which left the cluster, is still in the JetStream meta group", 4},
		{"four to three with R3 streams", healthy(4, 3, 3, 1), "n-3", "", 0},
		{"three to two with an R3 stream", healthy(3, 3), "n-2", "has 3 replicas and only 2 servers would remain", 0},
		{"three to two with R1 streams elsewhere", healthy(3, 1, 1), "n-2", "", 0},
		{"an R1 stream on the leaving server", healthy(3, 1), "n-0", "only copy on n-0", 0},
		{"a lagging replica", lagging, "n-3", "not healthy", 0},
		{"no meta leader", noLeader, "n-3", "not healthy", 0},
	}
	for _, tc := range cases {
		members := tc.h.Servers
		if tc.members > 0 {
			members = members[:tc.members]
		}
		got := ScaleDownBlocker(tc.h, tc.leaving, members)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
