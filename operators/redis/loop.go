package redis

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// statusRefresh bounds how stale status.replication's offsets may get; anything else
// a human would care about (roles, links, errors, state) is written at once.
const statusRefresh = 15 * time.Second

// loop is one supervisor's life between two restarts.
type loop struct {
	s     *Supervisors
	st    settings
	names workload.Names
	sv    *supervise.Run
	log   logr.Logger
	sup   *dataplane.Supervisor

	cluster    *v1alpha1.RedisCluster // as last read, for events and patches
	lastStates []dataplane.MemberState
	lastState  dataplane.State
	written    supervise.Throttle[v1alpha1.RedisReplicationStatus]
}

func (l *loop) topology(members []*dataplane.Member) dataplane.Topology {
	spec := l.st.spec
	return dataplane.Topology{
		Members:        members,
		Grace:          supervise.OrDefault(spec.FailoverGrace, 5*time.Second),
		MinReplicas:    l.st.minReplicas,
		MaxLag:         supervise.OrDefault(spec.MaxLag, 10*time.Second),
		CatchUpTimeout: 30 * time.Second,
		ManualFailover: spec.AutomaticFailover != nil && !*spec.AutomaticFailover,
	}
}

// pass is one gather → decide → act step, with status.replication written after it;
// supervise.Loop drives it and does the rest (labels, events, switchover annotation).
func (l *loop) pass(ctx context.Context, obj v1alpha1.Cluster) (supervise.Outcome, error) {
	c := obj.(*v1alpha1.RedisCluster)
	l.cluster = c
	plan, states, err := l.sup.Step(ctx, l.switchoverTarget(ctx, c))
	l.lastStates, l.lastState = states, plan.State
	if !errors.Is(err, supervise.ErrPrimaryMoved) {
		l.report(ctx, plan, states)
	}
	return supervise.Outcome{Primary: l.sup.Primary(), State: string(plan.State), Reason: plan.Reason,
		InSync: inSync(plan, states, l.sup.Primary())}, err
}

// switchoverTarget is the member a human asked for (the annotation); or, when the
// primary must leave (scale-down past it, or a rollout restarting it last), the first
// replica with a live link to it that stays; "" for none.
func (l *loop) switchoverTarget(ctx context.Context, c *v1alpha1.RedisCluster) string {
	if target := l.s.SwitchoverRequest(ctx, c, l.st.members); target != "" {
		return target
	}
	primary := l.sup.Primary()
	reason, why := supervise.PrimaryMustLeave(l.names, primary, c.Spec.Replicas, l.sv.Vacating())
	if reason == "" {
		return ""
	}
	target := successor(l.lastStates, l.names, primary, l.addrOf(primary), c.Spec.Replicas)
	if target != "" && l.lastState != dataplane.StateSwitchover {
		l.s.Recorder.Eventf(c, corev1.EventTypeNormal, reason, "%s; switching over to %s first", why, target)
	}
	return target
}

func (l *loop) addrOf(member string) string {
	for i, m := range l.st.members {
		if m == member {
			return l.st.addrs[i]
		}
	}
	return ""
}

// successor is the first member other than the primary with a live link to it that
// stays when the cluster has replicas members; "" when there is none.
func successor(states []dataplane.MemberState, names workload.Names, primary, primaryAddr string, replicas int32) string {
	for _, st := range states {
		if st.Name != primary && supervise.Stays(names, st.Name, replicas) && st.Reachable && st.Source == primaryAddr && st.LinkUp {
			return st.Name
		}
	}
	return ""
}

// commit records the new primary in status before the supervisor promotes it.
func (l *loop) commit(ctx context.Context, newPrimary string, plan dataplane.Plan) error {
	old := l.sup.Primary()
	change := &v1alpha1.PrimaryChange{Kind: string(plan.State), From: old, To: newPrimary, At: metav1.Now(), Reason: plan.Reason}
	err := l.s.CommitPrimary(ctx, l.st.key, func() v1alpha1.Cluster { return &v1alpha1.RedisCluster{} }, old, newPrimary,
		func(c v1alpha1.Cluster) {
			rc := c.(*v1alpha1.RedisCluster)
			if rc.Status.Replication == nil {
				rc.Status.Replication = &v1alpha1.RedisReplicationStatus{}
			}
			rc.Status.Replication.LastFailover = change
		})
	if err != nil {
		return err
	}
	kind, reason := corev1.EventTypeWarning, "Failover"
	if plan.State == dataplane.StateSwitchover {
		kind, reason = corev1.EventTypeNormal, "Switchover"
	}
	if l.cluster != nil {
		l.s.Recorder.Eventf(l.cluster, kind, reason, "Promoting %s (was %s): %s", newPrimary, old, plan.Reason)
	}
	return nil
}

// report writes status.replication when something a human cares about changed, and
// at least every statusRefresh while offsets move.
func (l *loop) report(ctx context.Context, plan dataplane.Plan, states []dataplane.MemberState) {
	now := metav1.Now()
	next := replicationStatus(plan, states, l.sup.Primary(), waitReplicas(int32(len(l.st.members))), now)
	if !l.written.Due(next, now.Time) {
		return
	}
	c := l.cluster.DeepCopy()
	patch := client.MergeFrom(c.DeepCopy())
	if c.Status.Replication != nil {
		next.LastFailover = c.Status.Replication.LastFailover
	}
	c.Status.Replication = &next
	if err := l.s.Client.Status().Patch(ctx, c, patch); err != nil {
		if ctx.Err() == nil {
			l.log.Error(err, "Writing status.replication")
		}
		return
	}
	l.written.Wrote(next, now.Time)
}

// inSync: the primary is healthy and every replica has a live link to it and is not
// copying — the condition for adding or restarting the next member.
func inSync(plan dataplane.Plan, states []dataplane.MemberState, primary string) bool {
	if plan.State != dataplane.StateHealthy {
		return false
	}
	for _, st := range states {
		if st.Name != primary && (!st.LinkUp || st.Syncing) {
			return false
		}
	}
	return true
}

// replicationStatus renders what one pass saw for status.
func replicationStatus(plan dataplane.Plan, states []dataplane.MemberState, primary string, wait int32, now metav1.Time) v1alpha1.RedisReplicationStatus {
	out := v1alpha1.RedisReplicationStatus{State: string(plan.State), Reason: plan.Reason, ObservedAt: now, WaitReplicas: wait}
	var head int64
	for _, st := range states {
		if st.Name == primary && st.Reachable {
			head = st.Offset
		}
	}
	for _, st := range states {
		m := v1alpha1.RedisMemberStatus{Name: st.Name, Reachable: st.Reachable, Offset: st.Offset, LinkUp: st.LinkUp, Error: st.Error}
		switch {
		case !st.Reachable:
			m.Role = "Unknown"
		case st.Name == primary && st.Primary:
			m.Role = "Primary"
		case st.Parked:
			m.Role = "Parked"
		default:
			m.Role = "Replica"
			if st.LinkUp && head > 0 {
				lag := max(0, head-st.Offset)
				m.LagBytes = &lag
			}
		}
		out.Members = append(out.Members, m)
	}
	return out
}

// sameShape compares two statuses without what moves with every write.
func sameShape(a, b v1alpha1.RedisReplicationStatus) bool {
	strip := func(s v1alpha1.RedisReplicationStatus) v1alpha1.RedisReplicationStatus {
		s.ObservedAt, s.LastFailover = metav1.Time{}, nil
		s.Members = append([]v1alpha1.RedisMemberStatus(nil), s.Members...)
		for i := range s.Members {
			s.Members[i].Offset, s.Members[i].LagBytes = 0, nil
		}
		return s
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
