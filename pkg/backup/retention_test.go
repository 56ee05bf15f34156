package backup

import (
	"slices"
	"testing"
	"time"
)

func TestRetentionExpired(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	daily := func(n int) []Kept {
		var out []Kept
		for i := range n {
			out = append(out, Kept{Name: "b" + string(rune('0'+i)), CompletedAt: now.Add(-time.Duration(i) * 24 * time.Hour)})
		}
		return out
	}
	cases := []struct {
		name    string
		r       Retention
		backups []Kept
		want    []string
	}{
		{"keep last 3 of 5", Retention{KeepLast: 3}, daily(5), []string{"b4", "b3"}},
		{"keep last 3 of 2", Retention{KeepLast: 3}, daily(2), nil},
		{"max age 2.5 days", Retention{MaxAge: 60 * time.Hour}, daily(5), []string{"b4", "b3"}},
		{"either limit", Retention{KeepLast: 2, MaxAge: 10 * 24 * time.Hour}, daily(4), []string{"b3", "b2"}},
		{"the newest stays however old", Retention{MaxAge: time.Hour}, []Kept{{"old", now.Add(-48 * time.Hour)}, {"older", now.Add(-72 * time.Hour)}}, []string{"older"}},
		{"no backups", Retention{KeepLast: 1}, nil, nil},
	}
	for _, tc := range cases {
		if got := tc.r.Expired(tc.backups, now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
