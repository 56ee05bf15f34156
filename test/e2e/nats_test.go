//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// scalePublisher publishes to the R3 stream through nats-sample-0 — a member that
// stays — while the cluster scales, and keeps each ack: the stream must stay
// available (the longest pause between acks is reported and bounded) and lose
// nothing acknowledged. Each message carries a message ID, so a publish retried
// after a lost ack is stored once.
type scalePublisher struct {
	stopping chan struct{}
	done     chan struct{}

	mu         sync.Mutex
	acked      int
	failures   int
	longestGap time.Duration
	err        error
}

const scaleSubject = "e2e3.scale"

func startScalePublisher(t *testing.T, name, password string) *scalePublisher {
	t.Helper()
	ctx := context.Background()
	port, stopForward, err := portForward(ctx, samplesNS, "pod/"+name+"-0", 4222)
	if err != nil {
		t.Fatal(err)
	}
	// Only the forwarded member: the others' addresses are the cluster's own.
	nc, err := nats.Connect("nats://127.0.0.1:"+port, nats.UserInfo("stowage", password), nats.IgnoreDiscoveredServers(),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.Timeout(10*time.Second))
	if err != nil {
		stopForward()
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	p := &scalePublisher{stopping: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer stopForward()
		defer nc.Close()
		last := time.Now()
		for i := 0; ; {
			select {
			case <-p.stopping:
				return
			case <-time.After(100 * time.Millisecond):
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := js.Publish(pctx, scaleSubject, []byte(strconv.Itoa(i)), jetstream.WithMsgID("scale-"+strconv.Itoa(i)))
			cancel()
			p.mu.Lock()
			if err != nil {
				p.failures++
				p.err = err
			} else {
				if gap := time.Since(last); gap > p.longestGap {
					p.longestGap = gap
				}
				last = time.Now()
				p.acked++
				i++ // the next message; a failed one is retried under its ID
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *scalePublisher) stop() (acked, failures int, longestGap time.Duration, lastErr error) {
	close(p.stopping)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked, p.failures, p.longestGap, p.err
}

// memberUIDs are the pods' UIDs and container restarts by name: a member that was
// recreated or restarted shows in either.
func memberUIDs(ctx context.Context, t *testing.T, engine, name string) map[string]string {
	t.Helper()
	pods, err := podsOf(ctx, engine, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pods {
		restarts := int32(0)
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
		out[p.Name] = fmt.Sprintf("%s/%d", p.UID, restarts)
	}
	return out
}

// varz reads a member's monitoring endpoint through the API server's pod proxy.
func varz(ctx context.Context, pod string) (map[string]any, error) {
	out, err := kubectl(ctx, "get", "--raw", fmt.Sprintf("/api/v1/namespaces/%s/pods/%s:8222/proxy/varz", samplesNS, pod))
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, fmt.Errorf("varz of %s: %w", pod, err)
	}
	return v, nil
}

// waitConfigCurrent waits until every member runs the configuration last written, as
// status.config reports it, and check holds on every member's VARZ.
func waitConfigCurrent(ctx context.Context, t *testing.T, name string, members int, check func(pod string, v map[string]any) error) {
	t.Helper()
	eventually(t, 5*time.Minute, "every member runs the new configuration", func() error {
		c := &v1alpha1.NATSCluster{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: name}, c); err != nil {
			return err
		}
		cfg := c.Status.Config
		if cfg == nil || len(cfg.Current) != members || len(cfg.Pending) != 0 {
			return fmt.Errorf("status.config %+v", cfg)
		}
		for i := 0; i < members; i++ {
			pod := fmt.Sprintf("%s-%d", name, i)
			v, err := varz(ctx, pod)
			if err != nil {
				return err
			}
			if err := check(pod, v); err != nil {
				return err
			}
		}
		return nil
	}, 3*time.Second)
}

// checkReloadWithoutRestart changes a parameter nats-server reloads: every member
// must run it — the kubelet updates the file, the operator asks each server to
// reload — with no pod recreated or restarted.
func checkReloadWithoutRestart(ctx context.Context, t *testing.T, name string) {
	before := memberUIDs(ctx, t, "nats", name)
	start := time.Now()
	patch := []byte(`{"spec":{"parameters":{"max_payload":"2097152"}}}`)
	c := &v1alpha1.NATSCluster{}
	c.Name, c.Namespace = name, samplesNS
	if err := k8s.Patch(ctx, c, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	waitConfigCurrent(ctx, t, name, 3, func(pod string, v map[string]any) error {
		if v["max_payload"] != float64(2097152) {
			return fmt.Errorf("%s: max_payload %v", pod, v["max_payload"])
		}
		return nil
	})
	timings.add("nats parameter change → every server reloaded it", time.Since(start))
	if after := memberUIDs(ctx, t, "nats", name); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("members were restarted: before %v after %v", before, after)
	}
	var evs corev1.EventList
	if err := k8s.List(ctx, &evs, client.InNamespace(samplesNS)); err != nil {
		t.Fatal(err)
	}
	reloaded := 0
	for _, e := range evs.Items {
		if e.InvolvedObject.Name == name && e.Reason == "ConfigReloaded" && e.LastTimestamp.Time.After(start.Add(-time.Second)) {
			reloaded++
		}
	}
	if reloaded == 0 {
		t.Error("no ConfigReloaded event")
	}
}
