//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// engineCase is what the shared scenario needs to drive one sample.
type engineCase struct {
	engine  string // the engine's label value
	name    string // the sample cluster's name
	newObj  func() v1alpha1.Cluster
	ownedBy []client.Object // objects deletion must remove
	// write stores value through the client Service; read returns it the same way.
	write func(ctx context.Context, value string) error
	read  func(ctx context.Context) (string, error)
	// readFrom reads the value from one member's own server in another cluster of the
	// engine (a restored one), not through its primary.
	readFrom func(ctx context.Context, cluster string, member int) (string, error)
	// victim is the member whose restart must keep the data; nil means the
	// cluster's current primary.
	victim func(ctx context.Context) (string, error)
	// failovers runs the engine's own disruption tests after the restart check.
	failovers func(t *testing.T)
	// afterScale checks what the engine promises about scaling, after 3 → 5 → 3.
	afterScale func(t *testing.T)
}

func (ec engineCase) cluster(ctx context.Context, t *testing.T) v1alpha1.Cluster {
	t.Helper()
	c := ec.newObj()
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: ec.name}, c); err != nil {
		t.Fatalf("reading %s: %v", ec.name, err)
	}
	return c
}

// run drives one sample through readiness, DNS, persistence across a pod restart,
// scaling 3 → 5 → 3 and deletion.
func (ec engineCase) run(t *testing.T) {
	ctx := context.Background()
	t.Run("Ready", func(t *testing.T) { ec.checkReady(ctx, t, 3) })
	t.Run("StableDNS", func(t *testing.T) { ec.checkDNS(ctx, t) })
	t.Run("DataSurvivesPodRestart", func(t *testing.T) { ec.checkPersistence(ctx, t) })
	if ec.failovers != nil {
		ec.failovers(t)
	}
	t.Run("Scale3To5To3", func(t *testing.T) {
		ec.scale(ctx, t, 5)
		ec.scale(ctx, t, 3)
	})
	if ec.afterScale != nil {
		ec.afterScale(t)
	}
	if ec.readFrom != nil {
		t.Run("ScheduledBackupRestoredIntoANewCluster", func(t *testing.T) { ec.checkBackupRestore(ctx, t) })
	}
	t.Run("Delete", func(t *testing.T) { ec.checkDelete(ctx, t) })
}

func (ec engineCase) checkReady(ctx context.Context, t *testing.T, n int) {
	c := ec.cluster(ctx, t)
	ready := meta.FindStatusCondition(c.GetClusterStatus().Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != "True" {
		t.Fatalf("%s is not Ready: %+v", ec.name, ready)
	}
	timings.add(ec.engine+" time to Ready (creation → Ready)", ready.LastTransitionTime.Sub(c.GetCreationTimestamp().Time))
	pods, err := podsOf(ctx, ec.engine, ec.name)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != n {
		t.Fatalf("%d pods, want %d", len(pods), n)
	}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			t.Errorf("pod %s is %s, ready %v", p.Name, p.Status.Phase, podReady(&p))
		}
	}
	var claims corev1.PersistentVolumeClaimList
	if err := k8s.List(ctx, &claims, client.InNamespace(samplesNS), client.MatchingLabels{"app.kubernetes.io/instance": ec.name, "app.kubernetes.io/name": ec.engine}); err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, pvc := range claims.Items {
		if pvc.Status.Phase == corev1.ClaimBound && pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName == "standard" {
			bound++
		}
	}
	if bound < n {
		t.Errorf("%d PVCs Bound from StorageClass standard, want %d", bound, n)
	}
}

func (ec engineCase) checkDNS(ctx context.Context, t *testing.T) {
	for i := 0; i < 3; i++ {
		host := fmt.Sprintf("%s-%d.%s-headless.%s.svc.cluster.local", ec.name, i, ec.name, samplesNS)
		pods, _ := podsOf(ctx, ec.engine, ec.name)
		want := pods[i].Status.PodIP
		out, err := kubectl(ctx, "-n", samplesNS, "exec", clientPod, "--", "getent", "hosts", host)
		if err != nil {
			t.Errorf("resolving %s: %v", host, err)
			continue
		}
		if len(out) < len(want) || out[:len(want)] != want {
			t.Errorf("%s resolves to %q, want the pod IP %s", host, out, want)
		}
	}
}

func (ec engineCase) checkPersistence(ctx context.Context, t *testing.T) {
	value := fmt.Sprintf("v%d", time.Now().UnixNano())
	if err := ec.write(ctx, value); err != nil {
		t.Fatalf("writing through the client Service: %v", err)
	}
	victim := ec.cluster(ctx, t).GetClusterStatus().CurrentPrimary
	if ec.victim != nil {
		var err error
		if victim, err = ec.victim(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if victim == "" {
		t.Fatalf("%s has no member to restart", ec.name)
	}
	var old corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: victim}, &old); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := k8s.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Minute, victim+" comes back Ready on its volume", func() error {
		var p corev1.Pod
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: victim}, &p); err != nil {
			return err
		}
		if p.UID == old.UID || !podReady(&p) {
			return fmt.Errorf("not yet recreated and ready")
		}
		return nil
	})
	timings.add(ec.engine+" pod deleted → Ready again", time.Since(start))
	eventually(t, 2*time.Minute, "the value is read back through the client Service", func() error {
		got, err := ec.read(ctx)
		if err != nil {
			return err
		}
		if got != value {
			return fmt.Errorf("read %q, want %q", got, value)
		}
		return nil
	})
}

// scale changes spec.replicas and checks that members come and go one at a time, in
// ordinal order, and that PVCs follow the retention policy.
func (ec engineCase) scale(ctx context.Context, t *testing.T, to int32) {
	c := ec.cluster(ctx, t)
	from := c.GetWorkload().Replicas
	patch := client.MergeFrom(c.DeepCopyObject().(v1alpha1.Cluster))
	c.GetWorkload().Replicas = to
	start := time.Now()
	if err := k8s.Patch(ctx, c, patch); err != nil {
		t.Fatal(err)
	}
	created, readyAt, gone := map[string]time.Time{}, map[string]time.Time{}, map[string]time.Time{}
	eventually(t, 10*time.Minute, fmt.Sprintf("%s scaled from %d to %d and Ready", ec.name, from, to), func() error {
		pods, err := podsOf(ctx, ec.engine, ec.name)
		if err != nil {
			return err
		}
		present := map[string]bool{}
		for _, p := range pods {
			present[p.Name] = true
			if _, ok := created[p.Name]; !ok {
				created[p.Name] = p.CreationTimestamp.Time
			}
			if _, ok := readyAt[p.Name]; !ok && podReady(&p) {
				readyAt[p.Name] = time.Now()
			}
			// A member is on its way out from the moment it is marked for deletion.
			if _, ok := gone[p.Name]; !ok && p.DeletionTimestamp != nil {
				gone[p.Name] = p.DeletionTimestamp.Time
			}
		}
		for i := to; i < from; i++ {
			n := fmt.Sprintf("%s-%d", ec.name, i)
			if present[n] && gone[n].IsZero() {
				return fmt.Errorf("%s is still a member", n)
			}
			if present[n] {
				return fmt.Errorf("%s is still terminating", n)
			}
		}
		c := ec.cluster(ctx, t)
		s := c.GetClusterStatus()
		if s.ReadyReplicas != to || s.Replicas != to || !meta.IsStatusConditionTrue(s.Conditions, v1alpha1.ConditionReady) || s.ObservedGeneration != c.GetGeneration() {
			return fmt.Errorf("ready %d/%d of %d, phase %s", s.ReadyReplicas, s.Replicas, to, s.Phase)
		}
		return nil
	}, time.Second/4)
	timings.add(fmt.Sprintf("%s scale %d → %d", ec.engine, from, to), time.Since(start))

	member := func(i int32) string { return fmt.Sprintf("%s-%d", ec.name, i) }
	for i := from; i+1 < to; i++ {
		a, b := member(i), member(i+1)
		if !created[b].After(created[a]) && !created[b].Equal(created[a]) {
			t.Errorf("scale-up: %s was created before %s", b, a)
		}
		if r, ok := readyAt[a]; ok && created[b].Before(r.Add(-2*time.Second)) {
			t.Errorf("scale-up: %s was created at %s, before %s was ready at %s", b, created[b], a, r)
		}
	}
	for i := to; i+1 < from; i++ {
		lower, higher := member(i), member(i+1)
		if gone[higher].IsZero() || gone[lower].IsZero() || gone[higher].After(gone[lower]) {
			t.Errorf("scale-down: %s went at %s, after %s at %s; want highest ordinal first", higher, gone[higher], lower, gone[lower])
		}
	}
	if to < from {
		keep := c.GetWorkload().Storage.RetentionPolicy.WhenScaled != v1alpha1.VolumeDelete
		for i := to; i < from; i++ {
			name := "data-" + member(i)
			eventually(t, 2*time.Minute, fmt.Sprintf("PVC %s follows whenScaled (keep=%v)", name, keep), func() error {
				var pvc corev1.PersistentVolumeClaim
				err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: name}, &pvc)
				exists := err == nil && pvc.DeletionTimestamp.IsZero()
				if err != nil && !apierrors.IsNotFound(err) {
					return err
				}
				if exists != keep {
					return fmt.Errorf("exists=%v", exists)
				}
				return nil
			})
		}
	}
}

func (ec engineCase) checkDelete(ctx context.Context, t *testing.T) {
	c := ec.cluster(ctx, t)
	keep := c.GetWorkload().Storage.RetentionPolicy.WhenDeleted != v1alpha1.VolumeDelete
	if err := k8s.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, o := range ec.ownedBy {
		o.SetNamespace(samplesNS)
		eventually(t, 3*time.Minute, fmt.Sprintf("%T %s is removed", o, o.GetName()), func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
	}
	eventually(t, 3*time.Minute, fmt.Sprintf("PVCs follow whenDeleted (keep=%v)", keep), func() error {
		var claims corev1.PersistentVolumeClaimList
		if err := k8s.List(ctx, &claims, client.InNamespace(samplesNS), client.MatchingLabels{"app.kubernetes.io/instance": ec.name, "app.kubernetes.io/name": ec.engine}); err != nil {
			return err
		}
		live := 0
		for _, pvc := range claims.Items {
			if pvc.DeletionTimestamp.IsZero() {
				live++
			}
		}
		if keep && live == 0 || !keep && live != 0 {
			return fmt.Errorf("%d PVCs left", live)
		}
		return nil
	})
}
