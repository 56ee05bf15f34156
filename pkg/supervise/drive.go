package supervise

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Outcome is what one engine pass reports back to the loop that drives it.
type Outcome struct {
	// Primary is the member the supervisor treats as primary after the pass.
	Primary string
	// State and Reason are the data plane's situation (Healthy, Degraded, …).
	State, Reason string
	// InSync: every member follows the primary and is caught up.
	InSync bool
}

// Loop drives one cluster's passes.
type Loop struct {
	Kit
	Run      *Run
	Engine   string
	Key      client.ObjectKey
	Interval time.Duration
	// NewCluster returns an empty cluster resource of the engine's kind.
	NewCluster func() v1alpha1.Cluster
}

// Drive runs pass every Interval against the cluster as the cache has it, and does
// around it what every engine does: publish the primary and the sync time, announce
// state changes, move role labels and finish a requested switchover. It returns
// ErrPrimaryMoved when a pass does (the caller restarts from status), nil when the
// cluster is gone or ctx ends.
func (l Loop) Drive(ctx context.Context, pass func(ctx context.Context, c v1alpha1.Cluster) (Outcome, error)) error {
	tick := time.NewTicker(l.Interval)
	defer tick.Stop()
	lastState, lastErr := "", ""
	for {
		c := l.NewCluster()
		if err := l.Client.Get(ctx, l.Key, c); err != nil {
			if apierrors.IsNotFound(err) || ctx.Err() != nil {
				return nil
			}
			l.Log.Error(err, "Reading the cluster")
		} else if restore := c.GetAnnotations()[v1alpha1.AnnotationRestoring]; restore != "" {
			// A restore rewrites the members' data: a pass now would take a seeding
			// primary for a replica, or a slow one for a dead one.
			if lastState != "Restoring" {
				lastState = "Restoring"
				l.Log.Info("Holding still while a restore runs", "restore", restore)
			}
		} else {
			began := time.Now()
			out, err := pass(ctx, c)
			if errors.Is(err, ErrPrimaryMoved) {
				return err
			}
			// Each distinct failure once: the loop retries every pass.
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != "" && msg != lastErr {
				l.Log.Info("Supervisor step failed; retrying", "error", msg)
			}
			lastErr = msg
			l.Run.SetPrimary(out.Primary)
			l.Run.Synced(began, out.InSync)
			if out.State != lastState {
				lastState = out.State
				l.Announce(c, out.State, out.Reason)
			}
			if out.Primary != "" { // engines with a primary role
				l.LabelRoles(ctx, l.Engine, l.Key, out.Primary)
				l.FinishSwitchover(ctx, c, out.Primary)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
