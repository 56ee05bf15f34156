package nats

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/nats/dataplane"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// checkInterval is how often a NATSCluster's JetStream is read.
const checkInterval = 2 * time.Second

// Supervisors run one JetStream watcher per NATSCluster with JetStream: each pass reads
// the meta group and every stream through the system account, writes
// status.jetStream, removes servers that left the cluster from the meta group, and
// tells the reconciler when JetStream is in sync (members are added or restarted only
// then) and whether the highest member may be removed.
type Supervisors struct {
	supervise.Plane

	mu     sync.Mutex
	health map[client.ObjectKey]seenHealth
	// plain are clusters without JetStream: nothing holds them back.
	plain map[client.ObjectKey]bool
	// digests are the config digests each member reports once it runs the
	// configuration last written.
	digests map[client.ObjectKey]map[string]string
}

// NewSupervisors builds the watchers on the manager; they stop with it.
func NewSupervisors(mgr ctrl.Manager, addressOf supervise.AddressFunc) (*Supervisors, error) {
	plane, err := supervise.NewPlane(mgr, engineName, addressOf)
	if err != nil {
		return nil, err
	}
	return &Supervisors{Plane: plane, health: map[client.ObjectKey]seenHealth{}, plain: map[client.ObjectKey]bool{},
		digests: map[client.ObjectKey]map[string]string{}}, nil
}

// Supervise implements cluster.DataPlane.
func (e Engine) Supervise(ctx context.Context, c v1alpha1.Cluster, bp workload.Blueprint, members int32) error {
	nc, ok := c.(*v1alpha1.NATSCluster)
	if !ok {
		return fmt.Errorf("nats engine got a %T", c)
	}
	key := client.ObjectKeyFromObject(nc)
	secret, err := e.Supervisors.Credentials(ctx, bp)
	if err != nil {
		return err
	}
	digests, err := memberDigests(nc, bp, func(name string) (map[string][]byte, error) {
		if name == bp.SecretName {
			return secret, nil
		}
		other := &corev1.Secret{}
		if err := e.Supervisors.Client.Get(ctx, client.ObjectKey{Namespace: nc.Namespace, Name: name}, other); err != nil {
			return nil, fmt.Errorf("reading Secret %s, named by a remote's credentialsSecretRef: %w", name, err)
		}
		return other.Data, nil
	})
	if err != nil {
		return err
	}
	e.Supervisors.mu.Lock()
	e.Supervisors.plain[key] = !nc.JetStreamEnabled()
	e.Supervisors.digests[key] = digests
	e.Supervisors.mu.Unlock()
	password := string(secret[KeySystemPassword])
	memberNames, addrs := e.Supervisors.Members(bp, members)
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = "nats://" + a
	}
	h := sha256.Sum256([]byte(strings.Join(urls, ",") + "|" + password))
	e.Supervisors.Ensure(key, fmt.Sprintf("%x", h), func(ctx context.Context, run *supervise.Run) {
		e.Supervisors.watch(ctx, key, memberNames, strings.Join(urls, ","), password, run)
	})
	return nil
}

// ScaleDownBlocker implements cluster.ScaleDownGate from the last health read.
func (e Engine) ScaleDownBlocker(key client.ObjectKey, member string) string {
	e.Supervisors.mu.Lock()
	h, ok := e.Supervisors.health[key]
	plain := e.Supervisors.plain[key]
	e.Supervisors.mu.Unlock()
	switch {
	case plain:
		return ""
	case !ok:
		return "JetStream has not been read yet"
	default:
		return dataplane.ScaleDownBlocker(h.Health, member, h.members)
	}
}

// SyncedAt implements cluster.DataPlane: what the watcher last found in sync, or, for
// a cluster without JetStream, always now.
func (e Engine) SyncedAt(key client.ObjectKey) time.Time {
	e.Supervisors.mu.Lock()
	plain := e.Supervisors.plain[key]
	e.Supervisors.mu.Unlock()
	if plain {
		return time.Now()
	}
	return e.Supervisors.Registry.SyncedAt(key)
}

// Forget implements cluster.DataPlane.
func (e Engine) Forget(key client.ObjectKey) {
	e.Supervisors.mu.Lock()
	delete(e.Supervisors.plain, key)
	delete(e.Supervisors.digests, key)
	e.Supervisors.mu.Unlock()
	e.Supervisors.Registry.Forget(key)
}

var (
	_ cluster.DataPlane     = Engine{}
	_ cluster.ScaleDownGate = Engine{}
)

func (s *Supervisors) watch(ctx context.Context, key client.ObjectKey, members []string, urls, password string, run *supervise.Run) {
	defer func() {
		s.mu.Lock()
		delete(s.health, key)
		s.mu.Unlock()
	}()
	log := s.Log.WithValues("cluster", key)
	sys, err := dataplane.Connect(urls, SystemUser, password)
	if err != nil {
		log.Error(err, "Connecting to the system account")
		return
	}
	defer sys.Close()
	drive := supervise.Loop{Kit: s.Kit, Run: run, Engine: engineName, Key: key, Interval: checkInterval,
		NewCluster: func() v1alpha1.Cluster { return &v1alpha1.NATSCluster{} }}
	drive.Log = log
	written := supervise.Throttle[observed]{Refresh: time.Minute, Same: sameObserved}
	reloads := newReloader(s.Recorder)
	_ = drive.Drive(ctx, func(ctx context.Context, obj v1alpha1.Cluster) (supervise.Outcome, error) {
		c := obj.(*v1alpha1.NATSCluster)
		var seen observed
		out, err := supervise.Outcome{State: "Running", Reason: "no JetStream", InSync: true}, error(nil)
		if c.JetStreamEnabled() {
			out, seen.jetStream, err = s.checkJetStream(ctx, sys, c, key, members)
		}
		s.mu.Lock()
		want := s.digests[key]
		s.mu.Unlock()
		seen.config = reloads.pass(ctx, sys, c, members, want)
		if written.Due(seen, time.Now()) {
			patch := client.MergeFrom(c.DeepCopy())
			c.Status.JetStream, c.Status.Config = seen.jetStream, seen.config
			if perr := s.Client.Status().Patch(ctx, c, patch); perr == nil {
				written.Wrote(seen, time.Now())
			}
		}
		return out, err
	})
}

// seenHealth is JetStream as a pass read it, and the members the cluster had then.
type seenHealth struct {
	dataplane.Health
	members []string
}

// observed is what a pass writes to status.
type observed struct {
	jetStream *v1alpha1.JetStreamStatus
	config    *v1alpha1.ConfigReloadStatus
}

func sameObserved(a, b observed) bool { return a.String() == b.String() }

// String is o without the time it was read, for comparing passes.
func (o observed) String() string {
	var js v1alpha1.JetStreamStatus
	if o.jetStream != nil {
		js = *o.jetStream
		js.ObservedAt = metav1.Time{}
	}
	var cfg v1alpha1.ConfigReloadStatus
	if o.config != nil {
		cfg = *o.config
	}
	return fmt.Sprintf("%t %v %t %v", o.jetStream != nil, js, o.config != nil, cfg)
}

// checkJetStream reads the meta group and the streams, removes departed servers and
// says whether JetStream is in sync.
func (s *Supervisors) checkJetStream(ctx context.Context, sys *dataplane.Client, c *v1alpha1.NATSCluster, key client.ObjectKey, members []string) (supervise.Outcome, *v1alpha1.JetStreamStatus, error) {
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	h, err := sys.Health(rctx)
	cancel()
	if err == nil {
		s.mu.Lock()
		s.health[key] = seenHealth{Health: h, members: members}
		s.mu.Unlock()
		err = s.removeDeparted(ctx, sys, c, h, members)
	}
	status := jetStreamStatus(h, err)
	out := supervise.Outcome{State: "Degraded", Reason: fmt.Sprintf("JetStream is not healthy: %s", describe(h, err))}
	if err == nil && h.Healthy() && len(h.Servers) == len(members) {
		out = supervise.Outcome{State: "Healthy", Reason: fmt.Sprintf("JetStream healthy on %d servers, meta leader %s", len(h.Servers), h.MetaLeader), InSync: true}
	}
	return out, &status, err
}

// removeDeparted takes servers of the meta group that are no longer members — the
// StatefulSet removed their pods in a scale-down — out of the meta group, so their
// streams' replicas are placed on the servers that remain.
func (s *Supervisors) removeDeparted(ctx context.Context, sys *dataplane.Client, c *v1alpha1.NATSCluster, h dataplane.Health, members []string) error {
	for _, server := range h.Servers {
		if slices.Contains(members, server) || !slices.Contains(h.Lagging, server) {
			continue // a member, or one still running (its pod is terminating)
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := sys.RemoveServer(rctx, server)
		cancel()
		if err != nil {
			return err
		}
		s.Recorder.Eventf(c, corev1.EventTypeNormal, "PeerRemoved", "Removed %s from the JetStream meta group after it left the cluster", server)
	}
	return nil
}

func describe(h dataplane.Health, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("meta leader %q, servers %v, behind %v", h.MetaLeader, h.Servers, h.Lagging)
}

func jetStreamStatus(h dataplane.Health, err error) v1alpha1.JetStreamStatus {
	st := v1alpha1.JetStreamStatus{Healthy: err == nil && h.Healthy(), MetaLeader: h.MetaLeader, Servers: h.Servers,
		Lagging: h.Lagging, Streams: int32(len(h.Streams)), ObservedAt: metav1.Now()}
	for _, s := range h.Streams {
		if s.Leader == "" || len(s.Lagging) > 0 {
			st.StreamsDegraded++
		}
		st.Consumers += int32(s.Consumers)
		st.ConsumersDegraded += int32(len(s.ConsumersBehind))
	}
	if err != nil {
		st.Error = err.Error()
	}
	return st
}
