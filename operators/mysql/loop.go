package mysql

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
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// statusRefresh bounds how stale status.replication's positions and lag may get;
// anything else a human would care about (roles, errors, state) is written at once.
const statusRefresh = 15 * time.Second

// loop is one supervisor's life between two restarts.
type loop struct {
	s     *Supervisors
	st    settings
	names workload.Names
	sv    *supervise.Run
	log   logr.Logger
	sup   *dataplane.Supervisor

	cluster    *v1alpha1.MySQLCluster // as last read, for events and patches
	lastStates []dataplane.MemberState
	lastState  dataplane.State
	written    supervise.Throttle[v1alpha1.MySQLReplicationStatus]
}

func (l *loop) topology(members []*dataplane.Member) dataplane.Topology {
	spec := l.st.spec
	t := dataplane.Topology{
		Members:         members,
		Replication:     l.st.accounts.Replication,
		Grace:           supervise.OrDefault(spec.FailoverGrace, 5*time.Second),
		SemiSyncAcks:    l.st.acks,
		SemiSyncTimeout: supervise.OrDefault(spec.SemiSyncTimeout, 24*time.Hour),
		CatchUpTimeout:  time.Minute,
		ManualFailover:  spec.AutomaticFailover != nil && !*spec.AutomaticFailover,
		RebuildErrant:   spec.RebuildErrantReplicas == nil || *spec.RebuildErrantReplicas,
	}
	t.Contains, t.Errant = dataplane.MySQLContains, dataplane.MySQLErrant
	if l.st.flavor == v1alpha1.FlavorMariaDB {
		t.Contains, t.Errant = dataplane.MariaDBContains, dataplane.MariaDBErrant
	}
	return t
}

// pass is one gather → decide → act step, with status.replication written after it;
// supervise.Loop drives it and does the rest (labels, events, switchover annotation).
func (l *loop) pass(ctx context.Context, obj v1alpha1.Cluster) (supervise.Outcome, error) {
	c := obj.(*v1alpha1.MySQLCluster)
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
// primary must leave — the cluster is scaling below its ordinal, or the reconciler
// restarts it last in a rollout — the first reachable, replicating member that stays;
// "" for none.
func (l *loop) switchoverTarget(ctx context.Context, c *v1alpha1.MySQLCluster) string {
	if target := l.s.SwitchoverRequest(ctx, c, l.st.members); target != "" {
		return target
	}
	primary := l.sup.Primary()
	reason, why := supervise.PrimaryMustLeave(l.names, primary, c.Spec.Replicas, l.sv.Vacating())
	if reason == "" {
		return ""
	}
	target := successor(l.lastStates, l.names, primary, c.Spec.Replicas)
	if target != "" && l.lastState != dataplane.StateSwitchover {
		l.s.Recorder.Eventf(c, corev1.EventTypeNormal, reason, "%s; switching over to %s first", why, target)
	}
	return target
}

// successor is the first reachable, replicating member other than the primary that
// stays when the cluster has replicas members; "" when there is none.
func successor(states []dataplane.MemberState, names workload.Names, primary string, replicas int32) string {
	for _, st := range states {
		if st.Name != primary && supervise.Stays(names, st.Name, replicas) && st.Reachable && st.Replica && st.IORunning {
			return st.Name
		}
	}
	return ""
}

// commit records the new primary in status before the supervisor opens it for writes.
func (l *loop) commit(ctx context.Context, newPrimary string, plan dataplane.Plan) error {
	old := l.sup.Primary()
	change := &v1alpha1.PrimaryChange{Kind: string(plan.State), From: old, To: newPrimary, At: metav1.Now(), Reason: plan.Reason}
	err := l.s.CommitPrimary(ctx, l.st.key, func() v1alpha1.Cluster { return &v1alpha1.MySQLCluster{} }, old, newPrimary,
		func(c v1alpha1.Cluster) {
			mc := c.(*v1alpha1.MySQLCluster)
			if mc.Status.Replication == nil {
				mc.Status.Replication = &v1alpha1.MySQLReplicationStatus{}
			}
			mc.Status.Replication.LastFailover = change
		})
	if err != nil {
		return err
	}
	kind, reason := corev1.EventTypeWarning, "Failover"
	if plan.State == dataplane.StateSwitchover {
		kind, reason = corev1.EventTypeNormal, "Switchover"
	}
	l.s.Recorder.Eventf(l.cluster, kind, reason, "Promoting %s (was %s): %s", newPrimary, old, plan.Reason)
	return nil
}

func (l *loop) notify(n dataplane.Notice) {
	if l.cluster == nil {
		return
	}
	kind := corev1.EventTypeNormal
	if n.Warning {
		kind = corev1.EventTypeWarning
	}
	l.s.Recorder.Event(l.cluster, kind, n.Reason, n.Message)
}

// report writes status.replication when something a human cares about changed, and
// at least every statusRefresh while positions move.
func (l *loop) report(ctx context.Context, plan dataplane.Plan, states []dataplane.MemberState) {
	now := metav1.Now()
	next := replicationStatus(plan, states, l.sup.Primary(), now)
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

// inSync: the primary is healthy and every replica follows it, caught up — the
// condition for adding the next member.
func inSync(plan dataplane.Plan, states []dataplane.MemberState, primary string) bool {
	if plan.State != dataplane.StateHealthy {
		return false
	}
	for _, st := range states {
		if st.Name == primary {
			continue
		}
		if !st.IORunning || !st.SQLRunning || st.LagSeconds == nil || *st.LagSeconds > 1 {
			return false
		}
	}
	return true
}

// replicationStatus renders what one pass saw for status.
func replicationStatus(plan dataplane.Plan, states []dataplane.MemberState, primary string, now metav1.Time) v1alpha1.MySQLReplicationStatus {
	out := v1alpha1.MySQLReplicationStatus{State: string(plan.State), Reason: plan.Reason, ObservedAt: now}
	for _, st := range states {
		m := v1alpha1.MySQLMemberStatus{
			Name: st.Name, Reachable: st.Reachable, ReadOnly: st.ReadOnly, GTID: st.GTID,
			Replicating: st.Replica && st.IORunning && st.SQLRunning, LagSeconds: st.LagSeconds,
			Errant: plan.Diverged[st.Name],
		}
		switch {
		case st.Rebuilding:
			m.Role = "Rebuilding"
		case !st.Reachable:
			m.Role = "Unknown"
		case st.Name == primary:
			m.Role = "Primary"
		default:
			m.Role = "Replica"
		}
		for _, e := range []string{st.Error, st.LastIOError, st.LastSQLError} {
			if e != "" {
				m.Error = e
				break
			}
		}
		out.Members = append(out.Members, m)
	}
	return out
}

// sameShape compares two statuses without what moves with every write.
func sameShape(a, b v1alpha1.MySQLReplicationStatus) bool {
	strip := func(s v1alpha1.MySQLReplicationStatus) v1alpha1.MySQLReplicationStatus {
		s.ObservedAt, s.LastFailover = metav1.Time{}, nil
		s.Members = append([]v1alpha1.MySQLMemberStatus(nil), s.Members...)
		for i := range s.Members {
			s.Members[i].GTID, s.Members[i].LagSeconds = "", nil
		}
		return s
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
