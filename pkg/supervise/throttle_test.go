package supervise

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	type st struct{ state, position string }
	th := Throttle[st]{Refresh: 15 * time.Second, Same: func(a, b st) bool { return a.state == b.state }}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		next st
		at   time.Duration
		want bool
	}{
		{st{"Healthy", "1"}, 0, true},                  // nothing written yet
		{st{"Healthy", "2"}, time.Second, false},       // only the position moved
		{st{"Degraded", "2"}, 2 * time.Second, true},   // the state changed
		{st{"Degraded", "9"}, 16 * time.Second, false}, // within the refresh of the last write
		{st{"Degraded", "9"}, 18 * time.Second, true},  // the refresh ran out
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		if got := th.Due(s.next, now); got != s.want {
			t.Errorf("step %d: Due = %v, want %v", i, got, s.want)
		}
		if th.Due(s.next, now) {
			th.Wrote(s.next, now)
		}
	}
}
