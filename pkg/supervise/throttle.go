package supervise

import "time"

// Throttle decides when a loop writes its status section: at once when anything a
// human cares about changed (Same says no), otherwise at most every Refresh, so that
// positions moving with every write do not cost an API write per pass.
type Throttle[T any] struct {
	Refresh time.Duration
	Same    func(a, b T) bool
	last    *T
	at      time.Time
}

// Due reports whether next should be written now.
func (t *Throttle[T]) Due(next T, now time.Time) bool {
	return t.last == nil || !t.Same(*t.last, next) || now.Sub(t.at) >= t.Refresh
}

// Wrote records that next was written at now.
func (t *Throttle[T]) Wrote(next T, now time.Time) { t.last, t.at = &next, now }
