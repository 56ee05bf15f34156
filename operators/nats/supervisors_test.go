package nats

import (
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/pkg/supervise"
)

// TestGatesWithoutJetStream: a cluster without JetStream has nothing to wait for — it
// is always in sync and may always lose a member; with JetStream, nothing moves until
// the watcher has read it.
func TestGatesWithoutJetStream(t *testing.T) {
	plain, watched := client.ObjectKey{Namespace: "ns", Name: "plain"}, client.ObjectKey{Namespace: "ns", Name: "js"}
	e := Engine{Supervisors: &Supervisors{
		Plane:  supervise.Plane{Registry: supervise.NewRegistry()},
		health: map[client.ObjectKey]seenHealth{},
		plain:  map[client.ObjectKey]bool{plain: true, watched: false},
	}}
	if at := e.SyncedAt(plain); time.Since(at) > time.Second {
		t.Errorf("a cluster without JetStream is not in sync: %s", at)
	}
	if why := e.ScaleDownBlocker(plain, "plain-2"); why != "" {
		t.Errorf("a cluster without JetStream is held back: %s", why)
	}
	if at := e.SyncedAt(watched); !at.IsZero() {
		t.Errorf("an unread JetStream cluster counts as in sync: %s", at)
	}
	if why := e.ScaleDownBlocker(watched, "js-2"); why == "" {
		t.Errorf("an unread JetStream cluster may lose a member")
	}
}
