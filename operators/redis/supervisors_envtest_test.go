package redis

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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/clustertest"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/events"
	"github.com/stowage/stowage/pkg/workload"
)

// TestEnvtestDataPlaneFailoverEvents runs the whole operator path against a real API
// server (envtest, with kube-controller-manager) and three real redis-servers on
// loopback, which stand in for the pods: the reconciler grows the StatefulSet one
// member at a time as the data plane reports them in sync, the supervisor writes
// status.replication and the role labels, and when the primary's server is killed
// it fails over — and the event bus carries the lifecycle, in order.
func TestEnvtestDataPlaneFailoverEvents(t *testing.T) {
	dbtest.RequireRedis(t)
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	servers := dbtest.StartRedises(t, "srv", 3, redisconf.Render(v1alpha1.RedisPersistence{}, nil))

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
	if _, err := sub.Subscribe(fmt.Sprintf("%s.%s.RedisCluster.ev.*", events.SubjectPrefix, ns), func(m *nats.Msg) {
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
		for i := range servers {
			if pod == fmt.Sprintf("ev-%d", i) {
				return servers[i].Addr()
			}
		}
		return "127.0.0.1:1"
	}
	mgr := events.Manager{Manager: clustertest.NewManager(t, e), Bus: bus}
	engine := NewEngine(DefaultOptions())
	if engine.Supervisors, err = NewSupervisors(mgr, addrOf); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Register(mgr, engine); err != nil {
		t.Fatal(err)
	}
	clustertest.Start(t, mgr)

	// The servers' password, as the cluster's own credentials.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ev-auth"},
		StringData: map[string]string{KeyPassword: dbtest.RedisPassword}}
	if err := e.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	rc := &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ev"},
		Spec: v1alpha1.RedisClusterSpec{
			WorkloadSpec: v1alpha1.WorkloadSpec{
				Replicas:             3,
				Storage:              v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
				CredentialsSecretRef: &corev1.LocalObjectReference{Name: "ev-auth"},
			},
			Replication: v1alpha1.RedisReplicationSpec{
				HealthCheckInterval: &metav1.Duration{Duration: 250 * time.Millisecond},
				FailoverGrace:       &metav1.Duration{Duration: time.Second},
			},
		},
	}
	if err := e.Client.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	// Play the kubelet: members are ready as soon as they exist.
	kctx, stopKubelet := context.WithCancel(ctx)
	defer stopKubelet()
	go func() {
		for kctx.Err() == nil {
			_, _ = e.MarkMembersReady(kctx, ns, workload.SelectorLabels(engineName, "ev"))
			time.Sleep(200 * time.Millisecond)
		}
	}()

	replication := func() (*v1alpha1.RedisCluster, error) {
		c := &v1alpha1.RedisCluster{}
		err := e.Client.Get(ctx, client.ObjectKeyFromObject(rc), c)
		return c, err
	}
	testenv.Eventually(t, 90*time.Second, "three members, replication healthy", func() error {
		c, err := replication()
		if err != nil {
			return err
		}
		if r := c.Status.Replication; r == nil || r.State != "Healthy" || len(r.Members) != 3 || r.WaitReplicas != 1 {
			return fmt.Errorf("replication %+v", c.Status.Replication)
		}
		return nil
	})
	checkPrimaryLabel(t, e, ns, "ev-0")

	servers[0].Kill()
	var promoted string
	testenv.Eventually(t, 30*time.Second, "a failover away from ev-0", func() error {
		c, err := replication()
		if err != nil {
			return err
		}
		if promoted = c.Status.CurrentPrimary; promoted == "ev-0" {
			return fmt.Errorf("status still names ev-0")
		}
		if last := c.Status.Replication.LastFailover; last == nil || last.From != "ev-0" || last.To != promoted {
			return fmt.Errorf("lastFailover %+v", last)
		}
		return nil
	})
	checkPrimaryLabel(t, e, ns, promoted)

	// The old primary comes back parked and is attached to the new one.
	servers[0].Restart(t)
	testenv.Eventually(t, 30*time.Second, "healthy again with the old primary as a replica", func() error {
		c, err := replication()
		if err != nil {
			return err
		}
		if r := c.Status.Replication; r.State != "Healthy" || r.Members[0].Role != "Replica" {
			return fmt.Errorf("replication %s, ev-0 %+v", r.State, r.Members[0])
		}
		return nil
	})

	// The bus carried the lifecycle in order.
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
		names := []string{}
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{want}) {
			return fmt.Errorf("labelled primary: %v", names)
		}
		return nil
	})
}
