package cluster

import (
	"context"

	"github.com/stowage/stowage/pkg/apply"
	"github.com/stowage/stowage/pkg/workload"
)

// reconcileConfig writes the engine's rendered configuration. Members pick a change up
// through the config hash on their pod template.
func (r *Reconciler) reconcileConfig(ctx context.Context, s *state) error {
	return apply.Object(ctx, r.Client, workload.ConfigMap(s.blueprint))
}

// reconcileServices writes the headless Service that names every member and the
// client Services applications connect to.
func (r *Reconciler) reconcileServices(ctx context.Context, s *state) error {
	if err := apply.Object(ctx, r.Client, workload.HeadlessService(s.blueprint)); err != nil {
		return err
	}
	for _, svc := range workload.ClientServices(s.blueprint) {
		if err := apply.Object(ctx, r.Client, svc); err != nil {
			return err
		}
	}
	return nil
}

// reconcileDisruptionBudget limits voluntary disruptions to one member at a time.
func (r *Reconciler) reconcileDisruptionBudget(ctx context.Context, s *state) error {
	return apply.Object(ctx, r.Client, workload.PodDisruptionBudget(s.blueprint))
}
