package clustertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/workload"
)

func checkStatefulSetShape(t *testing.T, sts *appsv1.StatefulSet, bp workload.Blueprint) {
	t.Helper()
	spec := sts.Spec
	if spec.ServiceName != bp.Names().HeadlessService() {
		t.Errorf("serviceName %q, want the headless Service", spec.ServiceName)
	}
	policy := appsv1.OrderedReadyPodManagement
	if bp.ParallelStart {
		policy = appsv1.ParallelPodManagement
	}
	if *spec.Replicas != bp.Workload.Replicas || spec.PodManagementPolicy != policy {
		t.Errorf("replicas %d policy %s, want %d %s", *spec.Replicas, spec.PodManagementPolicy, bp.Workload.Replicas, policy)
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p == nil || string(p.WhenDeleted) != string(bp.Workload.Storage.RetentionPolicy.WhenDeleted) {
		t.Errorf("PVC retention policy %+v", p)
	}
	if len(spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("want one volume claim template, have %d", len(spec.VolumeClaimTemplates))
	}
	vct := spec.VolumeClaimTemplates[0].Spec
	if *vct.StorageClassName != "standard" || vct.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("claim template class %v size %s", vct.StorageClassName, vct.Resources.Requests.Storage())
	}
	pod := spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.FSGroup == nil {
		t.Errorf("pod security context %+v: want non-root with an fsGroup", sc)
	}
	if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil || len(pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("want preferred pod anti-affinity, have %+v", pod.Affinity)
	}
	ctr := pod.Containers[0]
	if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil || ctr.StartupProbe == nil {
		t.Errorf("probes: readiness %v liveness %v startup %v", ctr.ReadinessProbe != nil, ctr.LivenessProbe != nil, ctr.StartupProbe != nil)
	}
	if ctr.SecurityContext == nil || ctr.SecurityContext.AllowPrivilegeEscalation == nil || *ctr.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("container may escalate privileges")
	}
	for _, env := range ctr.Env {
		if env.ValueFrom == nil && env.Value != "" && len(env.Value) >= 32 && !containsRef(env.Value) {
			t.Errorf("env %s holds a literal that looks like a secret", env.Name)
		}
	}
}

func containsRef(s string) bool { return strings.Contains(s, "$(") }

func checkServices(t *testing.T, e *testenv.Env, ns string, bp workload.Blueprint) {
	t.Helper()
	ctx := context.Background()
	headless := &corev1.Service{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: bp.Names().HeadlessService()}, headless); err != nil {
		t.Fatal(err)
	}
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless Service: clusterIP %q publishNotReadyAddresses %v", headless.Spec.ClusterIP, headless.Spec.PublishNotReadyAddresses)
	}
	for _, want := range workload.ClientServices(bp) {
		got := &corev1.Service{}
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Spec.Selector) != fmt.Sprint(want.Spec.Selector) || len(got.Spec.Ports) == 0 {
			t.Errorf("Service %s selects %v, want %v", got.Name, got.Spec.Selector, want.Spec.Selector)
		}
		if bp.HasPrimary && got.Spec.Selector[workload.LabelRole] == "" {
			t.Errorf("Service %s does not select on the role label", got.Name)
		}
	}
}

func checkConfig(t *testing.T, e *testenv.Env, ns string, bp workload.Blueprint, tc Case) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: bp.Names().ConfigMap()}, cm); err != nil {
		t.Fatal(err)
	}
	if got := cm.Data[tc.ConfigFile]; got == "" || !strings.Contains(got, tc.ParameterValue) {
		t.Errorf("%s lacks the user parameter %s=%s:\n%s", tc.ConfigFile, tc.Parameter, tc.ParameterValue, got)
	}
}

// checkGeneratedSecret: every key present with a strong value, and owned by the cluster
// only when the volumes go with it.
func checkGeneratedSecret(t *testing.T, e *testenv.Env, ns string, bp workload.Blueprint, c v1alpha1.Cluster, wantOwned bool) {
	t.Helper()
	s := &corev1.Secret{}
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: bp.Names().Secret()}, s); err != nil {
		t.Fatal(err)
	}
	for _, k := range bp.CredentialKeys {
		if len(s.Data[k]) < 32 {
			t.Errorf("credential %s has %d bytes, want ≥ 32", k, len(s.Data[k]))
		}
	}
	owned := false
	for _, ref := range s.OwnerReferences {
		owned = owned || ref.UID == c.GetUID()
	}
	if owned != wantOwned {
		t.Errorf("credentials Secret owned by the cluster: %v, want %v", owned, wantOwned)
	}
}

func waitForStatus(t *testing.T, e *testenv.Env, c v1alpha1.Cluster, what string, ok func(*v1alpha1.ClusterStatus) error) {
	t.Helper()
	testenv.Eventually(t, timeout, what, func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		return ok(c.GetClusterStatus())
	})
}

// waitForReadyMembers stands in for the kubelet until n members are ready and the
// cluster reports Ready for its current generation.
func waitForReadyMembers(t *testing.T, e *testenv.Env, engine string, c v1alpha1.Cluster, n int32) {
	t.Helper()
	sel := workload.SelectorLabels(engine, c.GetName())
	waitForStatus(t, e, c, fmt.Sprintf("%d members ready", n), func(s *v1alpha1.ClusterStatus) error {
		if _, err := e.MarkMembersReady(context.Background(), c.GetNamespace(), sel); err != nil {
			return err
		}
		if s.ReadyReplicas != n || s.Replicas != n || s.Phase != v1alpha1.PhaseReady || s.ObservedGeneration != c.GetGeneration() {
			return fmt.Errorf("ready %d/%d phase %q observed generation %d of %d", s.ReadyReplicas, s.Replicas, s.Phase, s.ObservedGeneration, c.GetGeneration())
		}
		return nil
	})
}

func checkRoles(t *testing.T, e *testenv.Env, c v1alpha1.Cluster, bp workload.Blueprint) {
	t.Helper()
	if !bp.HasPrimary {
		return
	}
	primary := bp.Names().Pod(0)
	if got := c.GetClusterStatus().CurrentPrimary; got != primary {
		t.Errorf("status.currentPrimary %q, want %q", got, primary)
	}
	testenv.Eventually(t, timeout, "role labels", func() error {
		var pods corev1.PodList
		if err := e.Client.List(context.Background(), &pods, client.InNamespace(c.GetNamespace()), client.MatchingLabels(workload.SelectorLabels(bp.Engine, c.GetName()))); err != nil {
			return err
		}
		for _, p := range pods.Items {
			want := workload.RoleReplica
			if p.Name == primary {
				want = workload.RolePrimary
			}
			if p.Labels[workload.LabelRole] != want {
				return fmt.Errorf("pod %s has role %q, want %q", p.Name, p.Labels[workload.LabelRole], want)
			}
		}
		return nil
	})
	checkEvent(t, e, c, "PrimaryAssigned")
}

func checkEvent(t *testing.T, e *testenv.Env, c v1alpha1.Cluster, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, "event "+reason, func() error {
		var events corev1.EventList
		if err := e.Client.List(context.Background(), &events, client.InNamespace(c.GetNamespace())); err != nil {
			return err
		}
		for _, ev := range events.Items {
			if ev.InvolvedObject.UID == c.GetUID() && ev.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("no %s event among %d", reason, len(events.Items))
	})
}

const userLabel, userAnnotation = "team.example.com/owner", "team.example.com/note"

func addUserMetadata(t *testing.T, e *testenv.Env, obj client.Object, ns, name string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return err
		}
		l, a := obj.GetLabels(), obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		l[userLabel], a[userAnnotation] = "payments", "keep me"
		obj.SetLabels(l)
		obj.SetAnnotations(a)
		return e.Client.Update(context.Background(), obj)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkUserMetadata(t *testing.T, e *testenv.Env, obj client.Object, ns, name string) {
	t.Helper()
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	if obj.GetLabels()[userLabel] != "payments" || obj.GetAnnotations()[userAnnotation] != "keep me" {
		t.Errorf("%T %s lost the user's metadata: labels %v annotations %v", obj, name, obj.GetLabels(), obj.GetAnnotations())
	}
}

func mutate(t *testing.T, e *testenv.Env, c v1alpha1.Cluster, fn func(v1alpha1.Cluster)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		fn(c)
		return e.Client.Update(context.Background(), c)
	})
	if err != nil {
		t.Fatalf("updating the cluster: %v", err)
	}
}

func waitGone(t *testing.T, e *testenv.Env, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		testenv.Eventually(t, timeout, fmt.Sprintf("%T %s is deleted", o, o.GetName()), func() error {
			err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(o), o)
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("still there (deletionTimestamp %v)", o.GetDeletionTimestamp())
		})
	}
}
