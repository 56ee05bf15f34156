package mysql

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

// AddressFunc gives the host:port the operator reaches a member at.
type AddressFunc func(namespace, headlessService, pod string) string

// PodDNSAddress reaches a member by its stable DNS name, as in a cluster.
func PodDNSAddress(namespace, headlessService, pod string) string {
	return net.JoinHostPort(fmt.Sprintf("%s.%s.%s.svc", pod, headlessService, namespace), strconv.Itoa(port))
}

// Supervisors runs one dataplane.Supervisor per MySQLCluster, each in its own
// goroutine that checks the members every spec.replication.healthCheckInterval. The
// reconciler starts and restarts them (Supervise) and asks them who the primary is;
// they write status.currentPrimary (the commit of a failover or switchover),
// status.replication and the members' role labels, and emit the Events.
type Supervisors struct {
	client    client.Client
	reader    client.Reader
	recorder  record.EventRecorder
	addressOf AddressFunc
	log       logr.Logger

	mu      sync.Mutex
	running map[client.ObjectKey]*supervision
}

// NewSupervisors uses the manager's client, API reader and event recorder.
func NewSupervisors(mgr ctrl.Manager, addressOf AddressFunc) *Supervisors {
	return &Supervisors{
		client:    mgr.GetClient(),
		reader:    mgr.GetAPIReader(),
		recorder:  mgr.GetEventRecorderFor("stowage-mysql"),
		addressOf: addressOf,
		log:       ctrl.Log.WithName("mysql-supervisor"),
		running:   map[client.ObjectKey]*supervision{},
	}
}

// supervision is one cluster's running supervisor.
type supervision struct {
	fingerprint string
	cancel      context.CancelFunc
	done        chan struct{}
	primary     atomic.Value // string
	syncedAt    atomic.Int64 // unix nanoseconds; 0 when the latest pass found the cluster out of sync
	vacate      atomic.Value // string: the member the reconciler asks the primary role off
}

// ended reports a supervisor whose goroutine returned (it could not connect, or it
// read the cluster as gone from a cache that lagged); the next reconcile starts a new one.
func (r *supervision) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
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
	if e.Supervisors == nil {
		return nil
	}
	mc, ok := c.(*v1alpha1.MySQLCluster)
	if !ok {
		return fmt.Errorf("mysql engine got a %T", c)
	}
	secret := &corev1.Secret{}
	if err := e.Supervisors.client.Get(ctx, client.ObjectKey{Namespace: bp.Namespace, Name: bp.SecretName}, secret); err != nil {
		return fmt.Errorf("reading the credentials: %w", err)
	}
	st := settings{
		key:    client.ObjectKeyFromObject(mc),
		flavor: mc.Spec.Flavor,
		accounts: dataplane.NewAccounts(string(secret.Data[KeyRootPassword]), string(secret.Data[KeyOperatorPassword]),
			string(secret.Data[KeyReplicationPassword]), string(secret.Data[KeyMonitorPassword])),
		spec: mc.Spec.Replication,
		acks: semiSyncAcks(mc.Spec.Replication, members),
	}
	names := bp.Names()
	for i := range int(members) {
		st.members = append(st.members, names.Pod(i))
		st.addrs = append(st.addrs, e.Supervisors.addressOf(bp.Namespace, names.HeadlessService(), names.Pod(i)))
	}
	return e.Supervisors.ensure(st, names)
}

// Forget implements cluster.DataPlane.
func (e Engine) Forget(key client.ObjectKey) {
	if e.Supervisors != nil {
		e.Supervisors.stop(key)
	}
}

// Primary implements cluster.DataPlane.
func (e Engine) Primary(key client.ObjectKey) (string, bool) {
	if e.Supervisors == nil {
		return "", false
	}
	run := e.Supervisors.get(key)
	if run == nil {
		return "", false
	}
	p, _ := run.primary.Load().(string)
	return p, p != ""
}

// SyncedAt implements cluster.DataPlane.
func (e Engine) SyncedAt(key client.ObjectKey) time.Time {
	if e.Supervisors == nil {
		return time.Time{}
	}
	run := e.Supervisors.get(key)
	if run == nil || run.syncedAt.Load() == 0 {
		return time.Time{}
	}
	return time.Unix(0, run.syncedAt.Load())
}

// Vacate implements cluster.DataPlane.
func (e Engine) Vacate(key client.ObjectKey, member string) {
	if e.Supervisors == nil {
		return
	}
	if run := e.Supervisors.get(key); run != nil {
		run.vacate.Store(member)
	}
}

var _ cluster.DataPlane = Engine{}

func (s *Supervisors) get(key client.ObjectKey) *supervision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[key]
}

func (s *Supervisors) ensure(st settings, names workload.Names) error {
	fp := st.fingerprint()
	s.mu.Lock()
	old := s.running[st.key]
	s.mu.Unlock()
	if old != nil && old.fingerprint == fp && !old.ended() {
		return nil
	}
	if old != nil {
		old.cancel()
		<-old.done
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &supervision{fingerprint: fp, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.running[st.key] = run
	s.mu.Unlock()
	go func() {
		defer close(run.done)
		s.supervise(ctx, st, names, run)
	}()
	return nil
}

func (s *Supervisors) stop(key client.ObjectKey) {
	s.mu.Lock()
	run := s.running[key]
	delete(s.running, key)
	s.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

// errPrimaryMoved: status names another primary than the supervisor started from
// (another operator instance, or a commit this one has not seen yet).
var errPrimaryMoved = errors.New("status.currentPrimary changed under the supervisor")

// supervise runs a cluster's supervisor until ctx ends. It (re)starts from the primary
// recorded in status, read from the API server, not the cache: an operator restarted
// in the middle of a failover resumes from what was committed and never promotes twice.
func (s *Supervisors) supervise(ctx context.Context, st settings, names workload.Names, run *supervision) {
	log := s.log.WithValues("cluster", st.key)
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
	interval := orDefault(st.spec.HealthCheckInterval, time.Second)
	for ctx.Err() == nil {
		c := &v1alpha1.MySQLCluster{}
		if err := s.reader.Get(ctx, st.key, c); err != nil {
			if apierrors.IsNotFound(err) {
				return
			}
			log.Error(err, "Reading the cluster")
			sleep(ctx, interval)
			continue
		}
		primary := c.Status.CurrentPrimary
		if primary == "" {
			primary = names.Pod(0)
		}
		run.primary.Store(primary)
		l := &loop{s: s, st: st, names: names, sv: run, log: log, interval: interval}
		l.sup = dataplane.NewSupervisor(l.topology(members), primary, l.commit)
		l.sup.Notify = l.notify
		if err := l.run(ctx); !errors.Is(err, errPrimaryMoved) {
			return
		}
		log.Info("The primary changed in status; restarting from it")
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
