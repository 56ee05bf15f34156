package dataplane

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Topology is what the supervisor knows about one cluster's members.
type Topology struct {
	// Members in ordinal order.
	Members []*Member
	// Replication is the account replicas connect to their source with.
	Replication Credentials
	// Grace is how long the primary may be unreachable before a failover.
	Grace time.Duration
	// SemiSyncAcks is how many replica acknowledgements a commit waits for (0: off).
	SemiSyncAcks int
	// SemiSyncTimeout is how long a commit waits for them before going asynchronous.
	SemiSyncTimeout time.Duration
	// CatchUpTimeout bounds the wait for a candidate to apply what it received.
	CatchUpTimeout time.Duration
	// Contains compares GTID sets of the cluster's flavor.
	Contains func(a, b string) (bool, error)
	// Errant lists what a member holds beyond the primary, in the flavor's GTID terms.
	Errant func(primary, member string) (string, error)
	// ManualFailover: never promote on the supervisor's own initiative.
	ManualFailover bool
	// RebuildErrant re-seeds diverged replicas from the primary.
	RebuildErrant bool
}

// Notice is something the supervisor did that a human would want to know about.
type Notice struct {
	Warning bool
	Reason  string
	Message string
}

// Supervisor keeps one cluster's replication in the shape Decide wants: each Step
// gathers every member's state, decides, and acts. It holds the only state that is
// not read from the members — who the primary is and since when it is unreachable —
// and hands every change of primary to Commit before the new primary takes writes.
type Supervisor struct {
	Topology Topology
	// Commit records a new primary durably (status.currentPrimary in a cluster) before
	// it is opened for writes; a Step that fails to commit changes nothing more.
	Commit func(ctx context.Context, newPrimary string, plan Plan) error
	// Notify hears about rebuilds and isolated members (may be nil).
	Notify func(Notice)

	primary   string
	published atomic.Value // the primary, for readers outside Step
	downSince time.Time
	now       func() time.Time

	mu         sync.Mutex
	rebuilding map[string]bool
	isolated   map[string]bool
}

// NewSupervisor starts from the primary recorded for the cluster.
func NewSupervisor(t Topology, primary string, commit func(context.Context, string, Plan) error) *Supervisor {
	s := &Supervisor{Topology: t, Commit: commit, primary: primary, now: time.Now,
		rebuilding: map[string]bool{}, isolated: map[string]bool{}}
	s.published.Store(primary)
	return s
}

// Primary is the member the supervisor treats as primary; safe to call while a Step
// runs on another goroutine.
func (s *Supervisor) Primary() string { return s.published.Load().(string) }

// Step runs one gather → decide → act pass. switchoverTo names a member a human asked
// to make primary ("" for none).
func (s *Supervisor) Step(ctx context.Context, switchoverTo string) (Plan, []MemberState, error) {
	states := s.gather(ctx)
	obs := Observation{
		Primary:        s.primary,
		Members:        states,
		Addrs:          map[string]string{},
		Grace:          s.Topology.Grace,
		SwitchoverTo:   switchoverTo,
		SemiSync:       s.Topology.SemiSyncAcks > 0,
		Contains:       s.Topology.Contains,
		Errant:         s.Topology.Errant,
		ManualFailover: s.Topology.ManualFailover,
		RebuildErrant:  s.Topology.RebuildErrant,
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
		if s.isRebuilding(m.Name) {
			states[i] = MemberState{Name: m.Name, Rebuilding: true, Error: "being rebuilt from the primary"}
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); states[i] = m.State(ctx) }()
	}
	wg.Wait()
	return states
}

func (s *Supervisor) isRebuilding(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rebuilding[name]
}

func (s *Supervisor) member(name string) *Member {
	for _, m := range s.Topology.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func (s *Supervisor) sourceFor(primary string) Source {
	m := s.member(primary)
	host, port := splitHostPort(m.Addr)
	return Source{Host: host, Port: port, User: s.Topology.Replication.User, Password: s.Topology.Replication.Password}
}

func (s *Supervisor) act(ctx context.Context, plan Plan, obs Observation) error {
	// Fencing comes first, whatever the state: never two writable members.
	for _, name := range plan.Fence {
		if err := s.member(name).Fence(ctx); err != nil {
			return fmt.Errorf("fencing %s: %w", name, err)
		}
	}
	switch plan.State {
	case StateBootstrap, StateHealthy, StateDegraded:
		return s.converge(ctx, plan)
	case StateFailover:
		return s.failover(ctx, plan, obs)
	case StateSwitchover:
		return s.switchover(ctx, plan)
	default: // PrimaryLost, Unsafe: waiting is the action
		return nil
	}
}

// converge opens the primary when needed, attaches replicas to it and deals with
// diverged ones.
func (s *Supervisor) converge(ctx context.Context, plan Plan) error {
	for _, name := range plan.Rebuild {
		if s.confirmDiverged(ctx, name) {
			s.startRebuild(ctx, name, plan.Diverged[name])
		}
	}
	for _, name := range plan.Isolate {
		if s.confirmDiverged(ctx, name) {
			s.isolate(ctx, name, plan.Diverged[name])
		}
	}
	primary := s.member(s.primary)
	if plan.OpenPrimary {
		if err := s.open(ctx, primary); err != nil {
			return err
		}
	} else if plan.ConfigureSemiSync {
		if err := primary.SemiSync(ctx, s.Topology.SemiSyncAcks, s.Topology.SemiSyncTimeout); err != nil {
			return fmt.Errorf("configuring semi-sync on %s: %w", primary.Name, err)
		}
	}
	for _, name := range plan.Repoint {
		if err := s.member(name).ReplicateFrom(ctx, s.sourceFor(s.primary), s.Topology.SemiSyncAcks > 0); err != nil {
			return fmt.Errorf("attaching %s to %s: %w", name, s.primary, err)
		}
	}
	return nil
}

// confirmDiverged reads the member, then the primary, one after the other: a gather
// reads them at once, so a replica may show a transaction the primary committed after
// its own read — ahead, but not errant.
func (s *Supervisor) confirmDiverged(ctx context.Context, name string) bool {
	m := s.member(name).State(ctx)
	p := s.member(s.primary).State(ctx)
	if !m.Reachable || !p.Reachable {
		return false
	}
	o := Observation{Primary: s.primary, Addrs: map[string]string{s.primary: s.member(s.primary).Addr}, Errant: s.Topology.Errant, Contains: s.Topology.Contains}
	return o.divergence(p, m) != ""
}

// startRebuild re-seeds a diverged member from the primary in the background: a seed
// takes as long as the data, and failover detection must not wait for it.
func (s *Supervisor) startRebuild(ctx context.Context, name, why string) {
	s.mu.Lock()
	if s.rebuilding[name] {
		s.mu.Unlock()
		return
	}
	s.rebuilding[name] = true
	delete(s.isolated, name)
	s.mu.Unlock()
	source := s.member(s.primary)
	s.notify(Notice{Warning: true, Reason: "RebuildStarted", Message: fmt.Sprintf("Rebuilding %s from %s: %s", name, source.Name, why)})
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.rebuilding, name)
			s.mu.Unlock()
		}()
		started := time.Now()
		m := s.member(name)
		gtid, err := m.SeedFrom(ctx, source)
		if err == nil {
			err = m.ReplicateFrom(ctx, s.sourceFor(source.Name), s.Topology.SemiSyncAcks > 0)
		}
		if err != nil {
			s.notify(Notice{Warning: true, Reason: "RebuildFailed", Message: fmt.Sprintf("Rebuilding %s from %s failed: %v", name, source.Name, err)})
			return
		}
		s.notify(Notice{Reason: "RebuildFinished", Message: fmt.Sprintf("Rebuilt %s from %s at %s in %s; it replicates again",
			name, source.Name, gtid, time.Since(started).Round(time.Millisecond))})
	}()
}

func (s *Supervisor) isolate(ctx context.Context, name, why string) {
	if err := s.member(name).Isolate(ctx); err != nil {
		return // retried next pass
	}
	s.mu.Lock()
	first := !s.isolated[name]
	s.isolated[name] = true
	s.mu.Unlock()
	if first {
		s.notify(Notice{Warning: true, Reason: "ReplicaIsolated", Message: fmt.Sprintf(
			"%s is stopped and fenced: %s; rebuilding is off (spec.replication.rebuildErrantReplicas)", name, why)})
	}
}

func (s *Supervisor) notify(n Notice) {
	if s.Notify != nil {
		s.Notify(n)
	}
}

func (s *Supervisor) open(ctx context.Context, m *Member) error {
	if err := m.SemiSync(ctx, s.Topology.SemiSyncAcks, s.Topology.SemiSyncTimeout); err != nil {
		return fmt.Errorf("configuring semi-sync on %s: %w", m.Name, err)
	}
	if err := m.Promote(ctx); err != nil {
		return fmt.Errorf("opening %s for writes: %w", m.Name, err)
	}
	return nil
}

// failover promotes plan.NewPrimary once it applied everything it received, then
// repoints the other reachable replicas to it.
func (s *Supervisor) failover(ctx context.Context, plan Plan, obs Observation) error {
	candidate, _ := obs.member(plan.NewPrimary)
	if candidate.Received != "" {
		if err := s.member(plan.NewPrimary).WaitForGTID(ctx, candidate.Received, s.Topology.CatchUpTimeout); err != nil {
			return fmt.Errorf("letting %s apply its relay log: %w", plan.NewPrimary, err)
		}
	}
	return s.handOver(ctx, plan)
}

// switchover fences the primary, waits for the target to hold all it wrote, then
// hands over; the old primary becomes a replica of the new one.
func (s *Supervisor) switchover(ctx context.Context, plan Plan) error {
	old := s.member(s.primary)
	if err := old.Fence(ctx); err != nil {
		return fmt.Errorf("fencing %s: %w", old.Name, err)
	}
	last := old.State(ctx)
	if !last.Reachable {
		return fmt.Errorf("reading %s after fencing it: %s", old.Name, last.Error)
	}
	if err := s.member(plan.NewPrimary).WaitForGTID(ctx, last.GTID, s.Topology.CatchUpTimeout); err != nil {
		return fmt.Errorf("letting %s catch up with %s: %w", plan.NewPrimary, old.Name, err)
	}
	return s.handOver(ctx, plan)
}

// handOver records the new primary, opens it and repoints every reachable member.
func (s *Supervisor) handOver(ctx context.Context, plan Plan) error {
	if err := s.Commit(ctx, plan.NewPrimary, plan); err != nil {
		return fmt.Errorf("recording %s as primary: %w", plan.NewPrimary, err)
	}
	old := s.primary
	s.primary, s.downSince = plan.NewPrimary, time.Time{}
	s.published.Store(s.primary)
	if err := s.open(ctx, s.member(s.primary)); err != nil {
		return err
	}
	for _, m := range s.Topology.Members {
		if m.Name == s.primary || (m.Name == old && plan.State == StateFailover) {
			continue // a lost primary rejoins later, through Decide, once it answers
		}
		if err := m.ReplicateFrom(ctx, s.sourceFor(s.primary), s.Topology.SemiSyncAcks > 0); err != nil {
			// An unreachable replica is repointed by a later pass.
			continue
		}
	}
	return nil
}

func splitHostPort(addr string) (string, int) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 3306
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return host, 3306
	}
	return host, port
}
