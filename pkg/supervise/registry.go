// Package supervise holds what every engine's data-plane manager shares: one
// goroutine per cluster, kept by a Registry that the reconciler starts, restarts and
// asks (cluster.DataPlane), and the bookkeeping each pass reports through — who the
// primary is, when the cluster was last seen in sync, which member a rollout wants the
// primary role off.
package supervise

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Registry runs one supervising goroutine per cluster.
type Registry struct {
	mu      sync.Mutex
	running map[client.ObjectKey]*Run
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{running: map[client.ObjectKey]*Run{}} }

// Run is one cluster's supervising goroutine and what it reports.
type Run struct {
	fingerprint string
	cancel      context.CancelFunc
	done        chan struct{}
	primary     atomic.Value // string
	syncedAt    atomic.Int64 // unix nanoseconds; 0 when the latest pass was out of sync
	vacate      atomic.Value // string
}

// SetPrimary publishes the member the supervisor treats as primary.
func (r *Run) SetPrimary(name string) { r.primary.Store(name) }

// Synced records the outcome of a pass that began at began.
func (r *Run) Synced(began time.Time, inSync bool) {
	if inSync {
		r.syncedAt.Store(began.UnixNano())
	} else {
		r.syncedAt.Store(0)
	}
}

// Vacating is the member the reconciler wants the primary role off ("" for none).
func (r *Run) Vacating() string {
	v, _ := r.vacate.Load().(string)
	return v
}

// ended reports a goroutine that returned on its own; the next Ensure starts anew.
func (r *Run) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Ensure keeps a goroutine running supervise for the cluster. It starts one when
// none runs, or the last ended, or the fingerprint (what it was started with:
// members, credentials, settings) changed — then the old one is stopped first.
func (g *Registry) Ensure(key client.ObjectKey, fingerprint string, supervise func(ctx context.Context, run *Run)) {
	g.mu.Lock()
	old := g.running[key]
	g.mu.Unlock()
	if old != nil && old.fingerprint == fingerprint && !old.ended() {
		return
	}
	if old != nil {
		old.cancel()
		<-old.done
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &Run{fingerprint: fingerprint, cancel: cancel, done: make(chan struct{})}
	g.mu.Lock()
	g.running[key] = run
	g.mu.Unlock()
	go func() {
		defer close(run.done)
		supervise(ctx, run)
	}()
}

// Stop ends the cluster's goroutine, if any, and waits for it.
func (g *Registry) Stop(key client.ObjectKey) {
	g.mu.Lock()
	run := g.running[key]
	delete(g.running, key)
	g.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

func (g *Registry) get(key client.ObjectKey) *Run {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running[key]
}

// Primary is the member the cluster's supervisor treats as primary; ok is false when
// none runs or it has not decided yet.
func (g *Registry) Primary(key client.ObjectKey) (string, bool) {
	run := g.get(key)
	if run == nil {
		return "", false
	}
	p, _ := run.primary.Load().(string)
	return p, p != ""
}

// SyncedAt is when the cluster's latest pass began if it found every member in sync;
// zero otherwise.
func (g *Registry) SyncedAt(key client.ObjectKey) time.Time {
	run := g.get(key)
	if run == nil || run.syncedAt.Load() == 0 {
		return time.Time{}
	}
	return time.Unix(0, run.syncedAt.Load())
}

// Vacate asks the cluster's supervisor to move the primary role off member ("" to
// withdraw the request).
func (g *Registry) Vacate(key client.ObjectKey, member string) {
	if run := g.get(key); run != nil {
		run.vacate.Store(member)
	}
}

// AddressFunc gives the host:port at which the operator — and the other members —
// reach a member.
type AddressFunc func(namespace, headlessService, pod string) string

// PodDNS reaches members by their stable DNS names on port, as in a cluster; the
// data-plane tests pass loopback addresses instead, to the same code.
func PodDNS(port int) AddressFunc {
	return func(namespace, headlessService, pod string) string {
		return net.JoinHostPort(fmt.Sprintf("%s.%s.%s.svc", pod, headlessService, namespace), strconv.Itoa(port))
	}
}

// OrDefault is a spec duration, or def when it is unset or not positive.
func OrDefault(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return def
	}
	return d.Duration
}

// Sleep waits for d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Forget stops the cluster's goroutine (cluster.DataPlane).
func (g *Registry) Forget(key client.ObjectKey) { g.Stop(key) }

// Start implements manager.Runnable: the registry's goroutines live as long as the
// manager (and, with leader election, as long as it leads) — when it stops, they stop.
func (g *Registry) Start(ctx context.Context) error {
	<-ctx.Done()
	g.mu.Lock()
	keys := make([]client.ObjectKey, 0, len(g.running))
	for k := range g.running {
		keys = append(keys, k)
	}
	g.mu.Unlock()
	for _, k := range keys {
		g.Stop(k)
	}
	return nil
}
