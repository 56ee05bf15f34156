package backup

import (
	"slices"
	"time"
)

// Kept is one completed backup a retention policy considers.
type Kept struct {
	Name        string
	CompletedAt time.Time
}

// Retention says which completed backups of a schedule stay.
type Retention struct {
	// KeepLast keeps this many most recent ones (0: no count limit).
	KeepLast int
	// MaxAge drops those completed longer ago (0: no age limit).
	MaxAge time.Duration
}

// Expired are the backups the policy drops, oldest first. With both limits a backup
// goes when either says so — except that the most recent one always stays, so a
// schedule that stopped succeeding never deletes its last good backup.
func (r Retention) Expired(backups []Kept, now time.Time) []string {
	sorted := slices.Clone(backups)
	// Newest first.
	slices.SortFunc(sorted, func(a, b Kept) int { return b.CompletedAt.Compare(a.CompletedAt) })
	var out []string
	for i, b := range sorted {
		if i == 0 {
			continue
		}
		tooMany := r.KeepLast > 0 && i >= r.KeepLast
		tooOld := r.MaxAge > 0 && now.Sub(b.CompletedAt) > r.MaxAge
		if tooMany || tooOld {
			out = append(out, b.Name)
		}
	}
	slices.Reverse(out)
	return out
}
