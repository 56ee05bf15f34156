//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// checkSwitchoverEvents asks for a switchover with the annotation while subscribed to
// the operator's event bus (its embedded NATS server, through a port-forward to the
// operator's pod): the primary moves to the named member, the annotation is removed,
// and the bus carries Switchover then SwitchoverCompleted.
func (s store) checkSwitchoverEvents(t *testing.T) {
	ctx := context.Background()
	port, stop, err := portForward(ctx, "stowage-system", "deploy/stowage-operator", 4222)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	conn, err := nats.Connect("nats://127.0.0.1:" + port)
	if err != nil {
		t.Fatalf("connecting to the operator's event bus: %v", err)
	}
	defer conn.Close()
	var mu sync.Mutex
	var reasons []string
	kind := s.sample(ctx, t).GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = map[string]string{"mysql": "MySQLCluster", "redis": "RedisCluster"}[s.engine]
	}
	subject := fmt.Sprintf("stowage.events.%s.%s.%s.>", samplesNS, kind, s.cluster)
	if _, err := conn.Subscribe(subject, func(m *nats.Msg) {
		var e struct {
			Data struct{ Reason string } `json:"data"`
		}
		if json.Unmarshal(m.Data, &e) == nil {
			mu.Lock()
			reasons = append(reasons, e.Data.Reason)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}

	s.waitHealthy(ctx, t)
	primary := s.primary(ctx, t)
	target := s.cluster + "-2"
	if primary == target {
		target = s.cluster + "-1"
	}
	c := s.sample(ctx, t)
	patch := client.MergeFrom(c.DeepCopyObject().(client.Object))
	a := c.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[v1alpha1.AnnotationSwitchoverTo] = target
	c.SetAnnotations(a)
	started := time.Now()
	if err := k8s.Patch(ctx, c, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "the switchover to "+target, func() error {
		c := s.sample(ctx, t)
		if got := c.GetClusterStatus().CurrentPrimary; got != target {
			return fmt.Errorf("primary %s", got)
		}
		if _, still := c.GetAnnotations()[v1alpha1.AnnotationSwitchoverTo]; still {
			return fmt.Errorf("the annotation is still there")
		}
		return nil
	}, time.Second)
	took := time.Since(started)
	timings.add(fmt.Sprintf("%s switchover on request → done", s.engine), took)
	eventually(t, 30*time.Second, "Switchover and SwitchoverCompleted on the event bus", func() error {
		mu.Lock()
		defer mu.Unlock()
		i := slices.Index(reasons, "Switchover")
		if i < 0 || !slices.Contains(reasons[i:], "SwitchoverCompleted") {
			return fmt.Errorf("events so far: %v", reasons)
		}
		return nil
	}, 500*time.Millisecond)
	mu.Lock()
	t.Logf("switchover %s → %s took %s; events on the bus: %v", primary, target, took.Round(time.Millisecond), reasons)
	mu.Unlock()
	s.waitHealthy(ctx, t)
}
