package dataplane

import (
	"fmt"
	"time"
)

// State is the situation the supervisor recognises; see the package comment.
type State string

const (
	StateBootstrap   State = "Bootstrap"
	StateHealthy     State = "Healthy"
	StateDegraded    State = "Degraded"
	StatePrimaryLost State = "PrimaryLost"
	StateFailover    State = "Failover"
	StateSwitchover  State = "Switchover"
	StateUnsafe      State = "Unsafe"
)

// Observation is one pass's view of a cluster.
type Observation struct {
	// Primary is the member status names as primary.
	Primary string
	// Members are all desired members, in ordinal order.
	Members []MemberState
	// Addrs maps member names to the host:port the other members reach them at.
	Addrs map[string]string
	// PrimaryDownFor is how long the primary has been unreachable (0 when it answers).
	PrimaryDownFor time.Duration
	// Grace is how long the primary may be unreachable before a failover.
	Grace time.Duration
	// SwitchoverTo names a member that should become primary ("" for none).
	SwitchoverTo string
	// MinReplicas is min-replicas-to-write for the primary.
	MinReplicas int
	// ManualFailover keeps the supervisor from promoting on its own.
	ManualFailover bool
}

// Plan is what the supervisor does about an observation.
type Plan struct {
	State State
	// Reason explains the state in a sentence for status and events.
	Reason string
	// Park lists members that take writes but are not the primary: they are fenced
	// before anything else happens, so there are never two writable members.
	Park []string
	// NewPrimary is the member to promote (Failover, Switchover).
	NewPrimary string
	// OpenPrimary promotes the primary in place: it is parked and no other member
	// holds data replicated from it (a new cluster, or every member restarted).
	OpenPrimary bool
	// RequireReplicas sets the primary's min-replicas-to-write to MinReplicas.
	RequireReplicas bool
	// Repoint lists members to attach to the primary.
	Repoint []string
}

// Decide maps an observation to a plan. It is pure, which is what makes the
// supervisor safe to restart at any point.
func Decide(o Observation) Plan {
	plan := Plan{}
	for _, m := range o.Members {
		if m.Name != o.Primary && m.Reachable && m.Primary {
			plan.Park = append(plan.Park, m.Name)
		}
	}
	primary, ok := o.member(o.Primary)
	switch {
	case !ok:
		plan.State, plan.Reason = StateUnsafe, fmt.Sprintf("the primary %q is not a member", o.Primary)
		return plan
	case !primary.Reachable:
		return o.decideWithoutPrimary(plan, o.PrimaryDownFor >= o.Grace, true,
			fmt.Sprintf("%s has not answered for %s (grace %s)", o.Primary, o.PrimaryDownFor.Round(time.Second), o.Grace))
	case primary.Parked && len(o.holders()) > 0:
		// It restarted and refuses to feed its replicas, which hold the history it may
		// have lost: waiting cannot bring that back, and no partition is in play.
		return o.decideWithoutPrimary(plan, true, false, fmt.Sprintf("%s restarted", o.Primary))
	case !primary.Primary && !primary.Parked:
		// Status names a replica: a promotion was committed and not carried out.
		plan.State, plan.NewPrimary = StateSwitchover, o.Primary
		plan.Reason = fmt.Sprintf("finishing the promotion of %s", o.Primary)
		return plan
	}

	if t := o.SwitchoverTo; t != "" && t != o.Primary && !primary.Parked {
		if target, ok := o.member(t); ok && target.Reachable && o.follows(target) && target.LinkUp {
			plan.State, plan.NewPrimary = StateSwitchover, t
			plan.Reason = fmt.Sprintf("switchover from %s to %s requested", o.Primary, t)
			return plan
		}
	}
	plan.OpenPrimary = primary.Parked
	plan.RequireReplicas = plan.OpenPrimary || primary.MinReplicasToWrite != o.MinReplicas
	replicating, syncing, down := 0, 0, 0
	for _, m := range o.Members {
		switch {
		case m.Name == o.Primary:
		case !m.Reachable:
			down++
		case o.follows(m) && m.LinkUp:
			replicating++
		case o.follows(m) && !plan.OpenPrimary:
			syncing++ // attached, connecting or loading a full copy: leave it to finish
		default:
			plan.Repoint = append(plan.Repoint, m.Name)
		}
	}
	switch {
	case plan.OpenPrimary || (replicating == 0 && syncing == 0 && down == 0 && len(o.Members) > 1):
		plan.State, plan.Reason = StateBootstrap, fmt.Sprintf("%s is primary; replicas are being attached", o.Primary)
	case down > 0 || syncing > 0 || len(plan.Repoint) > 0:
		plan.State = StateDegraded
		plan.Reason = fmt.Sprintf("%d of %d replicas replicate from %s (%d syncing, %d unreachable, %d to repoint)",
			replicating, len(o.Members)-1, o.Primary, syncing, down, len(plan.Repoint))
	case !plan.RequireReplicas && primary.GoodReplicas < primary.MinReplicasToWrite:
		plan.State = StateDegraded
		plan.Reason = fmt.Sprintf("%s refuses writes until %d replicas acknowledge within the allowed lag; %d do",
			o.Primary, primary.MinReplicasToWrite, primary.GoodReplicas)
	default:
		plan.State, plan.Reason = StateHealthy, fmt.Sprintf("%s is primary with %d replicas", o.Primary, replicating)
	}
	return plan
}

// decideWithoutPrimary handles a primary that cannot serve: promote the replica with
// the highest offset once due is true and, when majority is asked for, more than half
// of all replicas lost their link (unreachable replicas saw nothing, and a partition
// between the operator and the primary alone must not cost the cluster its primary).
func (o Observation) decideWithoutPrimary(plan Plan, due, majority bool, why string) Plan {
	lost, replicas := 0, 0
	for _, m := range o.Members {
		if m.Name == o.Primary {
			continue
		}
		replicas++
		if m.Reachable && lostLink(m) {
			lost++
		}
	}
	why = fmt.Sprintf("%s; %d of %d replicas lost their link", why, lost, replicas)
	switch {
	case o.ManualFailover:
		plan.State, plan.Reason = StatePrimaryLost, why+"; automatic failover is off: name a new primary with a switchover"
		return plan
	case !due || (majority && lost*2 <= replicas):
		plan.State, plan.Reason = StatePrimaryLost, why
		return plan
	}
	best := MemberState{}
	for _, m := range o.holders() {
		if best.Name == "" || m.Offset > best.Offset {
			best = m
		}
	}
	if best.Name == "" {
		plan.State, plan.Reason = StateUnsafe, why+"; no reachable replica holds its data"
		return plan
	}
	plan.State, plan.NewPrimary = StateFailover, best.Name
	plan.Reason = fmt.Sprintf("%s; promoting %s (offset %d)", why, best.Name, best.Offset)
	return plan
}

// staleLink is how long a replica may go without hearing from its source before it
// counts as having lost it: three missed pings (repl-ping-replica-period is 1s).
const staleLink = 3 * time.Second

// lostLink: the replica's link is down, or silent for longer than staleLink — a
// source that hangs or is cut off keeps the link "up" until repl-timeout.
func lostLink(m MemberState) bool { return !m.LinkUp || m.LastIO >= staleLink }

// holders are the reachable replicas attached to the primary (link up or not) and not
// in the middle of a full copy: they hold its replication history and can take over.
func (o Observation) holders() []MemberState {
	var out []MemberState
	for _, m := range o.Members {
		if m.Name != o.Primary && m.Reachable && !m.Parked && !m.Syncing && o.follows(m) {
			out = append(out, m)
		}
	}
	return out
}

func (o Observation) follows(m MemberState) bool {
	return !m.Primary && m.Source == o.Addrs[o.Primary]
}

func (o Observation) member(name string) (MemberState, bool) {
	for _, m := range o.Members {
		if m.Name == name {
			return m, true
		}
	}
	return MemberState{}, false
}
