package dataplane

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Topology is what the supervisor knows about one cluster's members.
type Topology struct {
	// Members in ordinal order.
	Members []*Member
	// Grace is how long the primary may be unreachable before a failover.
	Grace time.Duration
	// MinReplicas is the primary's min-replicas-to-write, MaxLag its
	// min-replicas-max-lag: a primary without that many replicas acknowledging within
	// MaxLag refuses writes, which bounds what a cut-off primary can take and lose.
	MinReplicas int
	MaxLag      time.Duration
	// CatchUpTimeout bounds the wait for a switchover target to receive everything.
	CatchUpTimeout time.Duration
	// ManualFailover: never promote on the supervisor's own initiative.
	ManualFailover bool
}

// Supervisor keeps one cluster's replication in the shape Decide wants: each Step
// gathers every member's state, decides and acts. It holds the only state not read
// from the members — who the primary is and since when it is unreachable — and hands
// every change of primary to Commit before the new primary takes writes.
type Supervisor struct {
	Topology Topology
	// Commit records a new primary durably (status.currentPrimary in a cluster) before
	// it is promoted; a Step that fails to commit changes nothing more.
	Commit func(ctx context.Context, newPrimary string, plan Plan) error

	primary   string
	published atomic.Value // the primary, for readers outside Step
	downSince time.Time
	now       func() time.Time
}

// NewSupervisor starts from the primary recorded for the cluster.
func NewSupervisor(t Topology, primary string, commit func(context.Context, string, Plan) error) *Supervisor {
	s := &Supervisor{Topology: t, Commit: commit, primary: primary, now: time.Now}
	s.published.Store(primary)
	return s
}

// Primary is the member the supervisor treats as primary; safe to call while a Step
// runs on another goroutine.
func (s *Supervisor) Primary() string { return s.published.Load().(string) }

// Step runs one gather → decide → act pass. switchoverTo names a member that should
// become primary ("" for none).
func (s *Supervisor) Step(ctx context.Context, switchoverTo string) (Plan, []MemberState, error) {
	states := s.gather(ctx)
	obs := Observation{
		Primary:        s.primary,
		Members:        states,
		Addrs:          map[string]string{},
		Grace:          s.Topology.Grace,
		SwitchoverTo:   switchoverTo,
		MinReplicas:    s.Topology.MinReplicas,
		ManualFailover: s.Topology.ManualFailover,
	}
	for _, m := range s.Topology.Members {
		obs.Addrs[m.Name] = m.Addr
	}
	if p, ok := obs.member(s.primary); ok && !p.Reachable {
		if s.downSince.IsZero() {
			s.downSince = s.now()
		}
		obs.PrimaryDownFor = s.now().Sub(s.downSince)
	} else {
		s.downSince = time.Time{}
	}
	plan := Decide(obs)
	return plan, states, s.act(ctx, plan, obs)
}

// gather reads every member at once, so one slow member costs one timeout, not many.
func (s *Supervisor) gather(ctx context.Context) []MemberState {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	states := make([]MemberState, len(s.Topology.Members))
	var wg sync.WaitGroup
	for i, m := range s.Topology.Members {
		wg.Add(1)
		go func() { defer wg.Done(); states[i] = m.State(ctx) }()
	}
	wg.Wait()
	return states
}

func (s *Supervisor) member(name string) *Member {
	for _, m := range s.Topology.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func (s *Supervisor) act(ctx context.Context, plan Plan, obs Observation) error {
	// Fencing comes first, whatever the state: never two writable members.
	for _, name := range plan.Park {
		if err := s.member(name).Park(ctx); err != nil {
			return fmt.Errorf("fencing %s: %w", name, err)
		}
	}
	switch plan.State {
	case StateBootstrap, StateHealthy, StateDegraded:
		return s.converge(ctx, plan)
	case StateFailover:
		return s.handOver(ctx, plan, obs)
	case StateSwitchover:
		return s.switchover(ctx, plan, obs)
	default: // PrimaryLost, Unsafe: waiting is the action
		return nil
	}
}

// converge opens the primary when needed and attaches the other members to it.
func (s *Supervisor) converge(ctx context.Context, plan Plan) error {
	primary := s.member(s.primary)
	if plan.OpenPrimary {
		if err := primary.Promote(ctx); err != nil {
			return fmt.Errorf("opening %s: %w", primary.Name, err)
		}
	}
	if plan.RequireReplicas {
		if err := primary.RequireReplicas(ctx, s.Topology.MinReplicas, s.Topology.MaxLag); err != nil {
			return fmt.Errorf("setting min-replicas-to-write on %s: %w", primary.Name, err)
		}
	}
	for _, name := range plan.Repoint {
		if err := s.member(name).ReplicateFrom(ctx, primary.Addr); err != nil {
			return fmt.Errorf("attaching %s to %s: %w", name, s.primary, err)
		}
	}
	return nil
}

// switchover pauses writes on the member the target follows, waits until the target
// received all of them, then hands over; the old primary becomes a replica of the
// new one and its paused clients are released (their writes then fail over to the
// new primary through the Service).
func (s *Supervisor) switchover(ctx context.Context, plan Plan, obs Observation) error {
	target, _ := obs.member(plan.NewPrimary)
	old := s.member(s.primary)
	if plan.NewPrimary == s.primary {
		old = nil // finishing a promotion: the old primary is whatever the target follows
		for _, m := range s.Topology.Members {
			if m.Addr == target.Source {
				old = m
			}
		}
	}
	if old == nil {
		return s.handOver(ctx, plan, obs)
	}
	pause := s.Topology.CatchUpTimeout + 5*time.Second
	if err := old.PauseWrites(ctx, pause); err != nil {
		return fmt.Errorf("pausing writes on %s: %w", old.Name, err)
	}
	defer old.ResumeWrites(context.WithoutCancel(ctx)) //nolint:errcheck // the pause also ends by itself
	last := old.State(ctx)
	if !last.Reachable {
		return fmt.Errorf("reading %s after pausing it: %s", old.Name, last.Error)
	}
	if err := s.member(plan.NewPrimary).WaitForOffset(ctx, last.Offset, s.Topology.CatchUpTimeout); err != nil {
		return fmt.Errorf("letting %s catch up with %s: %w", plan.NewPrimary, old.Name, err)
	}
	// The old primary stops taking writes before the new one starts.
	if err := old.Park(ctx); err != nil {
		return fmt.Errorf("fencing %s: %w", old.Name, err)
	}
	return s.handOver(ctx, plan, obs)
}

// handOver records the new primary, promotes it and attaches every reachable member
// to it — a parked old primary included: it rejoins as a replica and gets a fresh
// copy. Unreachable members are attached by a later pass, through Decide.
func (s *Supervisor) handOver(ctx context.Context, plan Plan, obs Observation) error {
	if plan.NewPrimary != s.primary {
		if err := s.Commit(ctx, plan.NewPrimary, plan); err != nil {
			return fmt.Errorf("recording %s as primary: %w", plan.NewPrimary, err)
		}
		s.primary, s.downSince = plan.NewPrimary, time.Time{}
		s.published.Store(s.primary)
	}
	primary := s.member(s.primary)
	if err := primary.Promote(ctx); err != nil {
		return fmt.Errorf("promoting %s: %w", primary.Name, err)
	}
	if err := primary.RequireReplicas(ctx, s.Topology.MinReplicas, s.Topology.MaxLag); err != nil {
		return fmt.Errorf("setting min-replicas-to-write on %s: %w", primary.Name, err)
	}
	for _, st := range obs.Members {
		if st.Name != s.primary && st.Reachable {
			_ = s.member(st.Name).ReplicateFrom(ctx, primary.Addr) // retried by a later pass
		}
	}
	return nil
}
