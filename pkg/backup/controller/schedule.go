package controller

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/stowage/stowage/api/v1alpha1"
)

// LabelSchedule marks the Backups a BackupSchedule made.
const LabelSchedule = "stowage.dev/schedule"

// dueAction is what a schedule does now.
type dueAction struct {
	// run: a backup is due for the scheduled time at.
	run bool
	at  time.Time
	// replace: delete the running backups first (ConcurrencyPolicy Replace).
	replace bool
	// skipped: a backup was due but another still runs (Forbid).
	skipped bool
	// next is when to look again.
	next time.Time
}

// decideSchedule is the schedule's decision at now: whether the latest scheduled
// time since last (the previous run, or the schedule's creation) is due, and what
// the concurrency policy makes of it. Missed runs are not made up: only the latest
// counts, as with a CronJob.
func decideSchedule(spec v1alpha1.BackupScheduleSpec, last, now time.Time, active int) (dueAction, error) {
	sched, err := cron.ParseStandard(spec.Schedule)
	if err != nil {
		return dueAction{}, fmt.Errorf("spec.schedule %q: %w", spec.Schedule, err)
	}
	var due time.Time
	for t := sched.Next(last); !t.After(now); t = sched.Next(t) {
		due = t
	}
	out := dueAction{next: sched.Next(now)}
	if due.IsZero() || spec.Suspend {
		return out, nil
	}
	out.at = due
	switch {
	case active == 0:
		out.run = true
	case spec.ConcurrencyPolicy == "Allow":
		out.run = true
	case spec.ConcurrencyPolicy == "Replace":
		out.run, out.replace = true, true
	default: // Forbid
		out.skipped = true
	}
	return out, nil
}

// scheduledName is the Backup for the scheduled time t: the same time always gives
// the same name, so a repeated reconcile cannot start it twice.
func scheduledName(schedule string, t time.Time) string {
	suffix := fmt.Sprintf("-%d", t.Unix())
	if len(schedule)+len(suffix) > 63 {
		schedule = schedule[:63-len(suffix)]
	}
	return schedule + suffix
}
