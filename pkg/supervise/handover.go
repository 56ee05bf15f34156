package supervise

import (
	"fmt"

	"github.com/stowage/stowage/pkg/workload"
)

// PrimaryMustLeave gives the Event reason and message when the primary has to hand
// over on its own: the cluster is scaling below its ordinal, or a rollout restarts it
// last (vacate names it once every replica runs the new revision). "" when it stays.
func PrimaryMustLeave(names workload.Names, primary string, replicas int32, vacate string) (reason, why string) {
	if ordinal, ok := names.Ordinal(primary); ok && ordinal >= replicas {
		return "SwitchoverForScaleDown", fmt.Sprintf("Scaling to %d members removes the primary %s", replicas, primary)
	}
	if vacate != "" && vacate == primary {
		return "SwitchoverForRestart", fmt.Sprintf("Every replica runs the new revision; %s is restarted last", primary)
	}
	return "", ""
}

// Stays reports whether a member remains when the cluster has replicas members.
func Stays(names workload.Names, member string, replicas int32) bool {
	o, ok := names.Ordinal(member)
	return ok && o < replicas
}
