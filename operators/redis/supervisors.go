package redis

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// Supervisors runs one dataplane.Supervisor per RedisCluster, each in its own
// goroutine that checks the members every spec.replication.healthCheckInterval. They
// write status.currentPrimary (the commit of a failover or switchover),
// status.replication and the members' role labels, and emit the Events.
type Supervisors struct {
	supervise.Plane
}

// NewSupervisors builds the supervisors on the manager; they stop with it.
func NewSupervisors(mgr ctrl.Manager, addressOf supervise.AddressFunc) (*Supervisors, error) {
	plane, err := supervise.NewPlane(mgr, engineName, addressOf)
	if err != nil {
		return nil, err
	}
	return &Supervisors{Plane: plane}, nil
}

// settings are what a supervisor is started with; a change restarts it.
type settings struct {
	key         client.ObjectKey
	members     []string
	addrs       []string
	password    string
	spec        v1alpha1.RedisReplicationSpec
	minReplicas int
}

// minReplicas is min-replicas-to-write: the spec's value, or one replica whenever
// there is one; never more than the replicas that exist, or no write would pass.
func minReplicas(spec v1alpha1.RedisReplicationSpec, members int32) int {
	want := 1
	if spec.MinReplicasToWrite != nil {
		want = int(*spec.MinReplicasToWrite)
	}
	return max(0, min(want, int(members)-1))
}

// waitReplicas is the WAIT numreplicas that makes a write survive any failover the
// supervisor makes: a failover needs more than half of the replicas to have lost the
// primary and promotes the most advanced reachable one, so a write on more than the
// replicas that may be unreachable — ceil(replicas/2) — is on a candidate.
func waitReplicas(members int32) int32 {
	return members / 2
}

// fingerprint compares settings by value (the spec holds pointers).
func (s settings) fingerprint() string {
	spec, _ := json.Marshal(s.spec) // plain data: cannot fail
	h := sha256.New()
	fmt.Fprintf(h, "%v|%v|%s|%d|%s", s.members, s.addrs, spec, s.minReplicas, s.password)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Supervise implements cluster.DataPlane.
func (e Engine) Supervise(ctx context.Context, c v1alpha1.Cluster, bp workload.Blueprint, members int32) error {
	rc, ok := c.(*v1alpha1.RedisCluster)
	if !ok {
		return fmt.Errorf("redis engine got a %T", c)
	}
	secret, err := e.Supervisors.Credentials(ctx, bp)
	if err != nil {
		return err
	}
	st := settings{
		key:         client.ObjectKeyFromObject(rc),
		password:    string(secret[KeyPassword]),
		spec:        rc.Spec.Replication,
		minReplicas: minReplicas(rc.Spec.Replication, members),
	}
	st.members, st.addrs = e.Supervisors.Members(bp, members)
	names := bp.Names()
	e.Supervisors.Ensure(st.key, st.fingerprint(), func(ctx context.Context, run *supervise.Run) {
		e.Supervisors.supervise(ctx, st, names, run)
	})
	return nil
}

var _ cluster.DataPlane = Engine{}

// supervise runs a cluster's supervisor until ctx ends, (re)starting from the primary
// status names, read from the API server: an operator restarted in the middle of a
// failover resumes from what was committed and never promotes twice.
func (s *Supervisors) supervise(ctx context.Context, st settings, names workload.Names, run *supervise.Run) {
	log := s.Log.WithValues("cluster", st.key)
	var members []*dataplane.Member
	for i, name := range st.members {
		m := dataplane.Connect(name, st.addrs[i], st.password)
		defer m.Close()
		members = append(members, m)
	}
	interval := supervise.OrDefault(st.spec.HealthCheckInterval, time.Second)
	for ctx.Err() == nil {
		c := &v1alpha1.RedisCluster{}
		if err := s.Reader.Get(ctx, st.key, c); err != nil {
			if apierrors.IsNotFound(err) {
				return
			}
			log.Error(err, "Reading the cluster")
			supervise.Sleep(ctx, interval)
			continue
		}
		primary := c.Status.CurrentPrimary
		if primary == "" {
			primary = names.Pod(0)
		}
		run.SetPrimary(primary)
		l := &loop{s: s, st: st, names: names, sv: run, log: log,
			written: supervise.Throttle[v1alpha1.RedisReplicationStatus]{Refresh: statusRefresh, Same: sameShape}}
		l.sup = dataplane.NewSupervisor(l.topology(members), primary, l.commit)
		drive := supervise.Loop{Kit: s.Kit, Run: run, Engine: engineName, Key: st.key, Interval: interval,
			NewCluster: func() v1alpha1.Cluster { return &v1alpha1.RedisCluster{} }}
		drive.Log = log
		if err := drive.Drive(ctx, l.pass); !errors.Is(err, supervise.ErrPrimaryMoved) {
			return
		}
		log.Info("The primary changed in status; restarting from it")
	}
}
