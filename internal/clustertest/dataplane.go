package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/events"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// FailoverCase is one engine with a primary, run against envtest and real servers
// on loopback that stand in for its pods.
type FailoverCase struct {
	// Engine builds the engine with its data plane on the manager, reaching members
	// at the addresses addrOf gives.
	Engine func(mgr ctrl.Manager, addrOf supervise.AddressFunc) (cluster.Engine, error)
	// Addrs are the servers' host:port, member 0 first.
	Addrs []string
	// Cluster is the cluster to create, named "ev", with three members, fast checks
	// and a short failover grace; its credentials Secret is Secret.
	Cluster func(meta metav1.ObjectMeta, w v1alpha1.WorkloadSpec) v1alpha1.Cluster
	Secret  map[string]string
	// Kill and Restart act on member i's server.
	Kill, Restart func(i int)
	// Replication reads the data plane's state, member count, the role of member 0
	// and the last primary change from the cluster's status.
	Replication func(c v1alpha1.Cluster) (state string, members int, role0 string, last *v1alpha1.PrimaryChange)
}

// RunFailoverWithEvents runs the whole operator path: the reconciler grows the
// StatefulSet one member at a time as the data plane reports them in sync, the
// supervisor writes status and the role labels, and when the primary's server is
// killed it fails over; the old primary returns as a replica — and the event bus
// carries the lifecycle, in order.
func RunFailoverWithEvents(t *testing.T, e *testenv.Env, fc FailoverCase) {
	ctx := context.Background()
	ns := e.Namespace(t)
	bus, err := events.Embedded("127.0.0.1", -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	sub, err := nats.Connect(bus.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	var mu sync.Mutex
	var seen []string
	if _, err := sub.Subscribe(fmt.Sprintf("%s.%s.*.ev.*", events.SubjectPrefix, ns), func(m *nats.Msg) {
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) == nil {
			mu.Lock()
			seen = append(seen, ev.Data.Reason)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	// Pod ev-N is reached at server N's loopback port.
	addrOf := func(_, _, pod string) string {
		for i, a := range fc.Addrs {
			if pod == fmt.Sprintf("ev-%d", i) {
				return a
			}
		}
		return "127.0.0.1:1"
	}
	mgr := events.Manager{Manager: NewManager(t, e), Bus: bus}
	engine, err := fc.Engine(mgr, addrOf)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.Register(mgr, engine); err != nil {
		t.Fatal(err)
	}
	Start(t, mgr)

	secret := &corev1.Secret{StringData: fc.Secret}
	secret.Namespace, secret.Name = ns, "ev-auth"
	if err := e.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	c := fc.Cluster(metav1.ObjectMeta{Namespace: ns, Name: "ev"}, v1alpha1.WorkloadSpec{
		Replicas:             3,
		Storage:              v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
		CredentialsSecretRef: &corev1.LocalObjectReference{Name: "ev-auth"},
	})
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Play the kubelet: members are ready as soon as they exist.
	kctx, stopKubelet := context.WithCancel(ctx)
	defer stopKubelet()
	go func() {
		for kctx.Err() == nil {
			_, _ = e.MarkMembersReady(kctx, ns, workload.SelectorLabels(engine.Name(), "ev"))
			time.Sleep(200 * time.Millisecond)
		}
	}()
	read := func() v1alpha1.Cluster {
		got := engine.NewCluster()
		_ = e.Client.Get(ctx, client.ObjectKeyFromObject(c), got)
		return got
	}

	testenv.Eventually(t, 2*time.Minute, "three members, replication healthy", func() error {
		if state, members, _, _ := fc.Replication(read()); state != "Healthy" || members != 3 {
			return fmt.Errorf("replication %s with %d members", state, members)
		}
		return nil
	})
	checkPrimaryLabel(t, e, ns, "ev-0")

	fc.Kill(0)
	var promoted string
	testenv.Eventually(t, time.Minute, "a failover away from ev-0", func() error {
		got := read()
		if promoted = got.GetClusterStatus().CurrentPrimary; promoted == "ev-0" || promoted == "" {
			return fmt.Errorf("status names %q", promoted)
		}
		if _, _, _, last := fc.Replication(got); last == nil || last.From != "ev-0" || last.To != promoted {
			return fmt.Errorf("lastFailover %+v", last)
		}
		return nil
	})
	checkPrimaryLabel(t, e, ns, promoted)

	fc.Restart(0)
	testenv.Eventually(t, 2*time.Minute, "healthy again with the old primary as a replica", func() error {
		if state, _, role0, _ := fc.Replication(read()); state != "Healthy" || role0 != "Replica" {
			return fmt.Errorf("replication %s, ev-0 %s", state, role0)
		}
		return nil
	})

	want := []string{"Creating", "ReplicationHealthy", "PrimaryUnreachable", "Failover", "ReplicationHealthy"}
	testenv.Eventually(t, 10*time.Second, "the lifecycle on the event bus", func() error {
		mu.Lock()
		defer mu.Unlock()
		if !inOrder(seen, want) {
			return fmt.Errorf("events %v do not hold %v in order", seen, want)
		}
		return nil
	})
	mu.Lock()
	t.Logf("events on the bus: %s", strings.Join(seen, ", "))
	mu.Unlock()
}

// inOrder reports whether want is a subsequence of seen.
func inOrder(seen, want []string) bool {
	i := 0
	for _, s := range seen {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

func checkPrimaryLabel(t *testing.T, e *testenv.Env, ns, want string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the primary label on "+want, func() error {
		var pods corev1.PodList
		if err := e.Client.List(context.Background(), &pods, client.InNamespace(ns),
			client.MatchingLabels{workload.LabelRole: workload.RolePrimary}); err != nil {
			return err
		}
		var names []string
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{want}) {
			return fmt.Errorf("labelled primary: %v", names)
		}
		return nil
	})
}
