package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// progress draws one line that follows a Backup's or Restore's status: its phase,
// the bytes so far and the time spent; with a known total, a bar.
type progress struct {
	w     io.Writer
	start time.Time
	total int64
}

func (p *progress) draw(phase string, bytes int64) {
	elapsed := time.Since(p.start).Round(time.Second)
	bar := ""
	if p.total > 0 {
		frac := min(float64(bytes)/float64(p.total), 1)
		n := int(frac * 30)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", n), strings.Repeat(".", 30-n), frac*100)
	}
	fmt.Fprintf(p.w, "\r%-9s %s%s  %s   ", phase, bar, humanize.IBytes(uint64(max(bytes, 0))), elapsed)
}

// follow polls read until the phase is Completed or Failed, drawing each step.
func (p *progress) follow(ctx context.Context, read func(ctx context.Context) (phase string, bytes int64, errMsg string, err error)) error {
	p.start = time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		phase, bytes, errMsg, err := read(ctx)
		if err != nil {
			return err
		}
		p.draw(orPending(phase), bytes)
		switch phase {
		case "Completed":
			fmt.Fprintln(p.w)
			return nil
		case "Failed":
			fmt.Fprintln(p.w)
			return fmt.Errorf("failed: %s", errMsg)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(p.w)
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func orPending(phase string) string {
	if phase == "" {
		return "Pending"
	}
	return phase
}
