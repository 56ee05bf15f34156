package mysql

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
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// Supervisors runs one dataplane.Supervisor per MySQLCluster, each in its own
// goroutine that checks the members every spec.replication.healthCheckInterval. The
// reconciler starts and restarts them (Supervise) and asks them who the primary is;
// they write status.currentPrimary (the commit of a failover or switchover),
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
	key      client.ObjectKey
	flavor   v1alpha1.MySQLFlavor
	members  []string
	addrs    []string
	accounts dataplane.Accounts
	spec     v1alpha1.MySQLReplicationSpec
	acks     int
}

// semiSyncAcks is ceil((members-1)/2): a majority of the replicas that exist, so that
// any failover candidate chosen by a majority holds every acknowledged write. Zero
// (asynchronous) without replicas or when the spec turns it off.
func semiSyncAcks(spec v1alpha1.MySQLReplicationSpec, members int32) int {
	if members < 2 || (spec.SemiSync != nil && !*spec.SemiSync) {
		return 0
	}
	return int(members) / 2
}

// fingerprint compares settings by value: the spec holds pointers, which differ on
// every read of the cluster even when nothing changed.
func (s settings) fingerprint() string {
	spec, _ := json.Marshal(s.spec) // plain data: cannot fail
	h := sha256.New()
	fmt.Fprintf(h, "%s|%v|%v|%s|%d|%s|%s|%s|%s", s.flavor, s.members, s.addrs, spec, s.acks,
		s.accounts.Root.Password, s.accounts.Operator.Password, s.accounts.Replication.Password, s.accounts.Monitor.Password)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Supervise implements cluster.DataPlane.
func (e Engine) Supervise(ctx context.Context, c v1alpha1.Cluster, bp workload.Blueprint, members int32) error {
	mc, ok := c.(*v1alpha1.MySQLCluster)
	if !ok {
		return fmt.Errorf("mysql engine got a %T", c)
	}
	secret, err := e.Supervisors.Credentials(ctx, bp)
	if err != nil {
		return err
	}
	st := settings{
		key:    client.ObjectKeyFromObject(mc),
		flavor: mc.Spec.Flavor,
		accounts: dataplane.NewAccounts(string(secret[KeyRootPassword]), string(secret[KeyOperatorPassword]),
			string(secret[KeyReplicationPassword]), string(secret[KeyMonitorPassword])),
		spec: mc.Spec.Replication,
		acks: semiSyncAcks(mc.Spec.Replication, members),
	}
	st.members, st.addrs = e.Supervisors.Members(bp, members)
	names := bp.Names()
	e.Supervisors.Ensure(st.key, st.fingerprint(), func(ctx context.Context, run *supervise.Run) {
		e.Supervisors.supervise(ctx, st, names, run)
	})
	return nil
}

var _ cluster.DataPlane = Engine{}

// supervise runs a cluster's supervisor until ctx ends. It (re)starts from the primary
// recorded in status, read from the API server, not the cache: an operator restarted
// in the middle of a failover resumes from what was committed and never promotes twice.
func (s *Supervisors) supervise(ctx context.Context, st settings, names workload.Names, run *supervise.Run) {
	log := s.Log.WithValues("cluster", st.key)
	flavor := dataplane.FlavorFor(st.flavor)
	var members []*dataplane.Member
	for i, name := range st.members {
		m, err := dataplane.Connect(name, st.addrs[i], flavor, st.accounts)
		if err != nil {
			log.Error(err, "Connecting to a member")
			return
		}
		defer m.Close()
		members = append(members, m)
	}
	interval := supervise.OrDefault(st.spec.HealthCheckInterval, time.Second)
	for ctx.Err() == nil {
		c := &v1alpha1.MySQLCluster{}
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
			written: supervise.Throttle[v1alpha1.MySQLReplicationStatus]{Refresh: statusRefresh, Same: sameShape}}
		l.sup = dataplane.NewSupervisor(l.topology(members), primary, l.commit)
		l.sup.Notify = l.notify
		drive := supervise.Loop{Kit: s.Kit, Run: run, Engine: engineName, Key: st.key, Interval: interval,
			NewCluster: func() v1alpha1.Cluster { return &v1alpha1.MySQLCluster{} }}
		drive.Log = log
		if err := drive.Drive(ctx, l.pass); !errors.Is(err, supervise.ErrPrimaryMoved) {
			return
		}
		log.Info("The primary changed in status; restarting from it")
	}
}
