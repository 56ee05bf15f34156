package controller

import (
	"testing"
	"time"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestDecideSchedule(t *testing.T) {
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	hourly := v1alpha1.BackupScheduleSpec{Schedule: "0 * * * *"}
	with := func(s v1alpha1.BackupScheduleSpec, f func(*v1alpha1.BackupScheduleSpec)) v1alpha1.BackupScheduleSpec {
		f(&s)
		return s
	}
	cases := []struct {
		name                  string
		spec                  v1alpha1.BackupScheduleSpec
		last, now             time.Time
		active                int
		run, replace, skipped bool
		at, next              time.Time
	}{
		{"not yet", hourly, base, base.Add(30 * time.Minute), 0, false, false, false, time.Time{}, base.Add(time.Hour)},
		{"due", hourly, base, base.Add(61 * time.Minute), 0, true, false, false, base.Add(time.Hour), base.Add(2 * time.Hour)},
		{"missed runs: only the latest", hourly, base, base.Add(5*time.Hour + time.Minute), 0, true, false, false, base.Add(5 * time.Hour), base.Add(6 * time.Hour)},
		{"forbid while one runs", hourly, base, base.Add(61 * time.Minute), 1, false, false, true, base.Add(time.Hour), base.Add(2 * time.Hour)},
		{"replace", with(hourly, func(s *v1alpha1.BackupScheduleSpec) { s.ConcurrencyPolicy = "Replace" }), base, base.Add(61 * time.Minute), 1, true, true, false, base.Add(time.Hour), base.Add(2 * time.Hour)},
		{"allow", with(hourly, func(s *v1alpha1.BackupScheduleSpec) { s.ConcurrencyPolicy = "Allow" }), base, base.Add(61 * time.Minute), 2, true, false, false, base.Add(time.Hour), base.Add(2 * time.Hour)},
		{"suspended", with(hourly, func(s *v1alpha1.BackupScheduleSpec) { s.Suspend = true }), base, base.Add(61 * time.Minute), 0, false, false, false, time.Time{}, base.Add(2 * time.Hour)},
		{"@every", v1alpha1.BackupScheduleSpec{Schedule: "@every 90s"}, base, base.Add(100 * time.Second), 0, true, false, false, base.Add(90 * time.Second), base.Add(190 * time.Second)},
	}
	for _, tc := range cases {
		got, err := decideSchedule(tc.spec, tc.last, tc.now, tc.active)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.run != tc.run || got.replace != tc.replace || got.skipped != tc.skipped || !got.at.Equal(tc.at) || !got.next.Equal(tc.next) {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
	if _, err := decideSchedule(v1alpha1.BackupScheduleSpec{Schedule: "61 * * * *"}, base, base, 0); err == nil {
		t.Error("an invalid schedule was accepted")
	}
	if n := scheduledName("a-very-long-schedule-name-that-goes-on-and-on-and-on-and-on-and-on", base); len(n) > 63 {
		t.Errorf("name %q is too long", n)
	}
}
