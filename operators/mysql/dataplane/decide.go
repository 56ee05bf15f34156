package dataplane

import (
	"fmt"
	"time"
)

// State is the situation the supervisor recognises in a cluster. Each pass gathers
// every member's MemberState, Decide maps the observation to exactly one State and a
// Plan, and the supervisor carries the plan out. docs/mysql.md describes the states.
type State string

const (
	// StateBootstrap: the primary is up and no member replicates yet.
	StateBootstrap State = "Bootstrap"
	// StateHealthy: the primary is writable and every replica follows it.
	StateHealthy State = "Healthy"
	// StateDegraded: the primary is fine, some replicas are down or need repointing.
	StateDegraded State = "Degraded"
	// StatePrimaryLost: the primary does not answer, but not for long enough, or the
	// replicas still see it (the operator may be the one cut off): wait.
	StatePrimaryLost State = "PrimaryLost"
	// StateFailover: the primary has not answered for the grace period and a majority of
	// replicas lost it too: promote the most advanced replica.
	StateFailover State = "Failover"
	// StateSwitchover: a human asked for another primary and both ends are up.
	StateSwitchover State = "Switchover"
	// StateUnsafe: promotion is needed but no replica holds every transaction the others
	// hold; promoting any would lose data, so the supervisor waits for a human.
	StateUnsafe State = "Unsafe"
)

// Observation is one pass's view of a cluster.
type Observation struct {
	// Primary is the member status names as primary.
	Primary string
	// Members are all desired members, in ordinal order.
	Members []MemberState
	// Addrs maps member names to the host:port replicas use to reach them.
	Addrs map[string]string
	// PrimaryDownFor is how long the primary has been unreachable (0 when it answers).
	PrimaryDownFor time.Duration
	// Grace is how long the primary may be unreachable before a failover.
	Grace time.Duration
	// SwitchoverTo names a member a human asked to become primary ("" for none).
	SwitchoverTo string
	// SemiSync says whether commits on the primary must wait for a replica's
	// acknowledgement, which is what makes a failover lose no acknowledged write.
	SemiSync bool
	// Contains reports whether GTID set a holds every transaction of b.
	Contains func(a, b string) (bool, error)
	// Errant returns the transactions member holds that primary lacks ("" for none).
	Errant func(primary, member string) (string, error)
	// ManualFailover keeps the supervisor from promoting on its own: a lost primary is
	// reported and waits for a human's switchover.
	ManualFailover bool
	// RebuildErrant re-seeds diverged replicas; without it they are isolated.
	RebuildErrant bool
}

// Plan is what the supervisor does about an observation.
type Plan struct {
	State State
	// Reason explains the state in a sentence for status and events.
	Reason string
	// NewPrimary is the member to promote (Failover, Switchover).
	NewPrimary string
	// OpenPrimary makes a read-only primary writable.
	OpenPrimary bool
	// ConfigureSemiSync sets the primary's semi-sync to what the observation asks for.
	ConfigureSemiSync bool
	// Fence lists writable members that are not the primary: they are made read-only
	// first, whatever else happens, so there are never two writable members.
	Fence []string
	// Repoint lists replicas to (re)configure to replicate from the primary.
	Repoint []string
	// Diverged lists members holding transactions the primary lacks, or whose source
	// cannot serve what they ask for (its binlog misses their position). They never
	// rejoin as they are: each is rebuilt (Rebuild) or stopped and reported (Isolate).
	Diverged map[string]string
	Rebuild  []string
	Isolate  []string
}

// Decide maps an observation to a plan. It is pure: the same observation always
// gives the same plan, which is what makes the supervisor safe to restart mid-way.
func Decide(o Observation) Plan {
	primary, ok := o.member(o.Primary)
	plan := Plan{}
	for _, m := range o.Members {
		if m.Name != o.Primary && m.Reachable && !m.ReadOnly {
			plan.Fence = append(plan.Fence, m.Name)
		}
	}
	if !ok {
		plan.State, plan.Reason = StateUnsafe, fmt.Sprintf("the primary %q is not a member", o.Primary)
		return plan
	}
	if !primary.Reachable {
		return o.decideWithoutPrimary(plan)
	}

	if t := o.SwitchoverTo; t != "" && t != o.Primary {
		if target, ok := o.member(t); ok && target.Reachable {
			plan.State, plan.NewPrimary = StateSwitchover, t
			plan.Reason = fmt.Sprintf("switchover from %s to %s requested", o.Primary, t)
			return plan
		}
	}
	plan.OpenPrimary = primary.ReadOnly
	plan.ConfigureSemiSync = primary.SemiSync != o.SemiSync
	replicating, connecting, down := 0, 0, 0
	for _, m := range o.Members {
		following := m.Replica && o.followsPrimary(m) && m.SQLRunning
		if m.Name != o.Primary && m.Reachable {
			if why := o.divergence(primary, m); why != "" {
				plan.addDiverged(m.Name, why, o.RebuildErrant)
				continue
			}
		}
		switch {
		case m.Name == o.Primary:
		case !m.Reachable:
			down++
		case following && m.IORunning:
			replicating++
		case following && m.IOConnecting:
			connecting++ // still attaching: leave it to finish
		default:
			plan.Repoint = append(plan.Repoint, m.Name)
		}
	}
	switch {
	case replicating == 0 && connecting == 0 && down == 0 && len(plan.Diverged) == 0 && len(o.Members) > 1:
		plan.State, plan.Reason = StateBootstrap, fmt.Sprintf("%s is primary; replicas are being attached", o.Primary)
	case down > 0 || connecting > 0 || len(plan.Repoint) > 0 || len(plan.Diverged) > 0:
		plan.State = StateDegraded
		plan.Reason = fmt.Sprintf("%d of %d replicas replicate from %s (%d connecting, %d unreachable, %d to repoint, %d diverged)",
			replicating, len(o.Members)-1, o.Primary, connecting, down, len(plan.Repoint), len(plan.Diverged))
	default:
		plan.State, plan.Reason = StateHealthy, fmt.Sprintf("%s is primary with %d replicas", o.Primary, replicating)
	}
	return plan
}

func (o Observation) decideWithoutPrimary(plan Plan) Plan {
	var candidates []MemberState
	lost, replicas := 0, 0
	for _, m := range o.Members {
		if m.Name == o.Primary {
			continue
		}
		replicas++
		if m.Reachable && !m.IORunning {
			lost++
		}
		if m.Reachable {
			candidates = append(candidates, m)
		}
	}
	// Only a majority of all replicas counts as agreement: unreachable replicas saw
	// nothing, and a partition between the operator and the primary alone must not
	// cost the cluster its primary.
	if o.ManualFailover {
		plan.State = StatePrimaryLost
		plan.Reason = fmt.Sprintf("%s does not answer and automatic failover is off; name a new primary with a switchover", o.Primary)
		return plan
	}
	if o.PrimaryDownFor < o.Grace || lost*2 <= replicas {
		plan.State = StatePrimaryLost
		plan.Reason = fmt.Sprintf("%s has not answered for %s (grace %s); %d of %d replicas lost it",
			o.Primary, o.PrimaryDownFor.Round(time.Second), o.Grace, lost, replicas)
		return plan
	}
	best := -1
	for i, c := range candidates {
		if best < 0 {
			best = i
			continue
		}
		ahead, err := o.Contains(c.GTID, candidates[best].GTID)
		if err == nil && ahead && c.GTID != candidates[best].GTID {
			best = i
		}
	}
	for _, c := range candidates {
		if ok, err := o.Contains(candidates[best].GTID, c.GTID); err != nil || !ok {
			plan.State = StateUnsafe
			plan.Reason = fmt.Sprintf("%s is lost and no replica holds every transaction the others hold (%s vs %s)",
				o.Primary, candidates[best].Name, c.Name)
			return plan
		}
	}
	if best < 0 {
		plan.State, plan.Reason = StateUnsafe, fmt.Sprintf("%s is lost and no replica answers", o.Primary)
		return plan
	}
	plan.State, plan.NewPrimary = StateFailover, candidates[best].Name
	plan.Reason = fmt.Sprintf("%s has not answered for %s and %d of %d replicas lost it; promoting %s",
		o.Primary, o.PrimaryDownFor.Round(time.Second), lost, replicas, plan.NewPrimary)
	return plan
}

// errIOSourceLacksPosition is the replica IO error for a source whose binlog does not
// hold the position the replica asks for: the replica diverged (MariaDB's strict GTID
// mode refuses it) or the source purged what it needs.
const errIOSourceLacksPosition = 1236

// divergence says why m cannot simply follow the primary, or "" when it can.
func (o Observation) divergence(primary, m MemberState) string {
	if m.Replica && !m.IORunning && m.LastIOErrno == errIOSourceLacksPosition && o.followsPrimary(m) {
		return fmt.Sprintf("the primary cannot serve its position: %s", m.LastIOError)
	}
	if primary.Purged != "" && o.Contains != nil {
		if has, err := o.Contains(m.GTID, primary.Purged); err == nil && !has {
			return fmt.Sprintf("the primary no longer has the binlogs it needs (purged up to %s)", primary.Purged)
		}
	}
	if o.Errant == nil {
		return ""
	}
	errant, err := o.Errant(primary.GTID, m.GTID)
	if err != nil {
		return fmt.Sprintf("its GTID position cannot be compared: %v", err)
	}
	if errant != "" {
		return fmt.Sprintf("it holds transactions the primary lacks: %s", errant)
	}
	return ""
}

func (p *Plan) addDiverged(name, why string, rebuild bool) {
	if p.Diverged == nil {
		p.Diverged = map[string]string{}
	}
	p.Diverged[name] = why
	if rebuild {
		p.Rebuild = append(p.Rebuild, name)
	} else {
		p.Isolate = append(p.Isolate, name)
	}
}

func (o Observation) member(name string) (MemberState, bool) {
	for _, m := range o.Members {
		if m.Name == name {
			return m, true
		}
	}
	return MemberState{}, false
}

// followsPrimary reports whether the replica's configured source is the primary.
func (o Observation) followsPrimary(m MemberState) bool {
	return fmt.Sprintf("%s:%d", m.SourceHost, m.SourcePort) == o.Addrs[o.Primary]
}

// MariaDBErrant lists, per replication domain, the member's last GTID where it is
// ahead of the primary or where the primary has no such domain.
func MariaDBErrant(primary, member string) (string, error) {
	pp, err := ParsePosition(primary)
	if err != nil {
		return "", err
	}
	pm, err := ParsePosition(member)
	if err != nil {
		return "", err
	}
	ahead := Position{}
	for d, g := range pm {
		if have, ok := pp[d]; !ok || g.Seq > have.Seq {
			ahead[d] = g
		}
	}
	return ahead.String(), nil
}

// MariaDBContains compares MariaDB GTID positions for Observation.Contains.
func MariaDBContains(a, b string) (bool, error) {
	pa, err := ParsePosition(a)
	if err != nil {
		return false, err
	}
	pb, err := ParsePosition(b)
	if err != nil {
		return false, err
	}
	return pa.Contains(pb), nil
}
