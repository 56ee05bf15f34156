package clustertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/workload"
)

const timeout = 60 * time.Second

// RunLifecycle drives one cluster through creation, readiness, a spec change, a scale
// up and deletion with retained volumes.
func RunLifecycle(t *testing.T, e *testenv.Env, tc Case) {
	ctx := context.Background()
	ns := e.Namespace(t)
	StartManager(t, e, tc.Engine)
	c := tc.New(metav1.ObjectMeta{Name: "lc", Namespace: ns}, workloadSpec(3, v1alpha1.VolumeRetain))
	c.GetWorkload().Parameters = map[string]string{tc.Parameter: tc.ParameterValue}
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatalf("creating the cluster: %v", err)
	}
	n := names(c)
	bp, err := tc.Engine.Blueprint(c)
	if err != nil {
		t.Fatal(err)
	}

	// Every object exists, controlled by the cluster.
	sts := &appsv1.StatefulSet{}
	testenv.Eventually(t, timeout, "the object set is created", func() error {
		for _, o := range ownedObjects(ns, bp) {
			if err := e.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
		}
		return e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n.StatefulSet()}, sts)
	})
	for _, o := range ownedObjects(ns, bp) {
		_ = e.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		if ref := metav1.GetControllerOf(o); ref == nil || ref.UID != c.GetUID() {
			t.Errorf("%T %s is not controlled by the cluster: %v", o, o.GetName(), o.GetOwnerReferences())
		}
	}
	checkStatefulSetShape(t, sts, bp)
	checkServices(t, e, ns, bp)
	checkConfig(t, e, ns, bp, tc)
	checkGeneratedSecret(t, e, ns, bp, c, false)

	// Before any member is ready the cluster is Creating.
	waitForStatus(t, e, c, "Creating and not Ready", func(s *v1alpha1.ClusterStatus) error {
		if s.Phase != v1alpha1.PhaseCreating || !meta.IsStatusConditionFalse(s.Conditions, v1alpha1.ConditionReady) ||
			!meta.IsStatusConditionTrue(s.Conditions, v1alpha1.ConditionProgressing) {
			return fmt.Errorf("phase %q conditions %v", s.Phase, s.Conditions)
		}
		return nil
	})

	// Members become ready one by one (OrderedReady); status follows.
	waitForReadyMembers(t, e, tc.Engine.Name(), c, 3)
	checkRoles(t, e, c, bp)
	checkEvent(t, e, c, "ClusterReady")

	// A user's labels and annotations on owned objects survive reconciles.
	addUserMetadata(t, e, &appsv1.StatefulSet{}, ns, n.StatefulSet())
	addUserMetadata(t, e, &corev1.Service{}, ns, n.HeadlessService())

	// A spec change (replicas, resources, parameters) reaches the StatefulSet and the
	// configuration, and rolls the members through a new config hash.
	oldHash := sts.Spec.Template.Annotations[workload.AnnotationConfigHash]
	mutate(t, e, c, func(c v1alpha1.Cluster) {
		w := c.GetWorkload()
		w.Replicas = 5
		w.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}
		w.Parameters[tc.Parameter] = tc.ParameterValue + "1"
	})
	testenv.Eventually(t, timeout, "the StatefulSet follows the spec", func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		cpu := sts.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String()
		hash := sts.Spec.Template.Annotations[workload.AnnotationConfigHash]
		if cpu != "250m" || hash == oldHash {
			return fmt.Errorf("cpu %s config hash changed %v", cpu, hash != oldHash)
		}
		return nil
	})
	// Scaling is one member at a time: the StatefulSet never jumps from 3 to 5.
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
		t.Fatal(err)
	}
	if *sts.Spec.Replicas != 4 {
		t.Errorf("StatefulSet replicas %d right after asking for 5 members; want one step, to 4", *sts.Spec.Replicas)
	}
	cm := &corev1.ConfigMap{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n.ConfigMap()}, cm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data[tc.ConfigFile], tc.ParameterValue+"1") {
		t.Errorf("the changed parameter is not in %s:\n%s", tc.ConfigFile, cm.Data[tc.ConfigFile])
	}
	waitForStatus(t, e, c, "Scaling while members are added", func(s *v1alpha1.ClusterStatus) error {
		if s.Phase != v1alpha1.PhaseScaling && s.Phase != v1alpha1.PhaseUpdating {
			return fmt.Errorf("phase %q", s.Phase)
		}
		return nil
	})
	checkEvent(t, e, c, "Scaling")
	// The StatefulSet controller rolls the existing members to the new revision; there
	// is no kubelet, so stand in for it by recreating pods as they are deleted.
	waitForReadyMembers(t, e, tc.Engine.Name(), c, 5)
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil || *sts.Spec.Replicas != 5 {
		t.Errorf("StatefulSet replicas %d (%v), want 5", *sts.Spec.Replicas, err)
	}
	checkUserMetadata(t, e, &appsv1.StatefulSet{}, ns, n.StatefulSet())
	checkUserMetadata(t, e, &corev1.Service{}, ns, n.HeadlessService())

	// One PVC per member, from the named StorageClass.
	claims := &corev1.PersistentVolumeClaimList{}
	if err := e.Client.List(ctx, claims, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(claims.Items) != 5 {
		t.Errorf("want 5 PVCs, have %d", len(claims.Items))
	}
	for _, pvc := range claims.Items {
		if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "standard" {
			t.Errorf("PVC %s has StorageClass %v, want standard", pvc.Name, pvc.Spec.StorageClassName)
		}
	}

	// Deleting the cluster removes what it owns and, under Retain, keeps the volumes
	// and the credentials that open them.
	if err := e.Client.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e, ownedObjects(ns, bp)...)
	waitGone(t, e, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.StatefulSet()}})
	if err := e.Client.List(ctx, claims, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if live := liveClaims(claims.Items); live != 5 {
		t.Errorf("whenDeleted=Retain: want 5 PVCs kept, have %d", live)
	}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n.Secret()}, &corev1.Secret{}); err != nil {
		t.Errorf("whenDeleted=Retain: the credentials Secret should be kept with the data: %v", err)
	}
}

// RunDeleteVolumes checks that whenDeleted=Delete removes volumes and the generated
// credentials with the cluster.
func RunDeleteVolumes(t *testing.T, e *testenv.Env, tc Case) {
	ctx := context.Background()
	ns := e.Namespace(t)
	StartManager(t, e, tc.Engine)
	c := tc.New(metav1.ObjectMeta{Name: "del", Namespace: ns}, workloadSpec(1, v1alpha1.VolumeDelete))
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatalf("creating the cluster: %v", err)
	}
	waitForReadyMembers(t, e, tc.Engine.Name(), c, 1)
	bp, _ := tc.Engine.Blueprint(c)
	checkGeneratedSecret(t, e, ns, bp, c, true)
	if err := e.Client.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	n := names(c)
	waitGone(t, e,
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.StatefulSet()}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.Secret()}})
	testenv.Eventually(t, timeout, "whenDeleted=Delete removes the PVCs", func() error {
		claims := &corev1.PersistentVolumeClaimList{}
		if err := e.Client.List(ctx, claims, client.InNamespace(ns)); err != nil {
			return err
		}
		if live := liveClaims(claims.Items); live != 0 {
			return fmt.Errorf("%d PVCs left", live)
		}
		return nil
	})
}

// RunUserSecret checks that a Secret the user names is used, checked and never written.
func RunUserSecret(t *testing.T, e *testenv.Env, tc Case) {
	ctx := context.Background()
	ns := e.Namespace(t)
	StartManager(t, e, tc.Engine)
	user := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: ns}, Data: map[string][]byte{"unrelated": []byte("x")}}
	if err := e.Client.Create(ctx, user); err != nil {
		t.Fatal(err)
	}
	w := workloadSpec(1, v1alpha1.VolumeRetain)
	w.CredentialsSecretRef = &corev1.LocalObjectReference{Name: "mine"}
	c := tc.New(metav1.ObjectMeta{Name: "usr", Namespace: ns}, w)
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, e, c, "Degraded for a Secret without the needed keys", func(s *v1alpha1.ClusterStatus) error {
		d := meta.FindStatusCondition(s.Conditions, v1alpha1.ConditionDegraded)
		if d == nil || d.Status != metav1.ConditionTrue || d.Reason != "CredentialsInvalid" || !strings.Contains(d.Message, "lacks the keys") {
			return fmt.Errorf("degraded condition %+v", d)
		}
		return nil
	})
	bp, _ := tc.Engine.Blueprint(c)
	// Completing the Secret lets the cluster come up with it; the operator never wrote to it.
	for _, k := range bp.CredentialKeys {
		user.Data[k] = []byte("user-chosen-" + k)
	}
	if err := e.Client.Update(ctx, user); err != nil {
		t.Fatal(err)
	}
	mutate(t, e, c, func(c v1alpha1.Cluster) {
		c.GetWorkload().Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	})
	waitForReadyMembers(t, e, tc.Engine.Name(), c, 1)
	got := &corev1.Secret{}
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(user), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != len(bp.CredentialKeys)+1 || string(got.Data[bp.CredentialKeys[0]]) != "user-chosen-"+bp.CredentialKeys[0] || len(got.OwnerReferences) != 0 {
		t.Errorf("the user's Secret was changed: %v owners %v", got.Data, got.OwnerReferences)
	}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: names(c).Secret()}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a credentials Secret was generated although the user named one: %v", err)
	}
}

func ownedObjects(ns string, bp workload.Blueprint) []client.Object {
	n := bp.Names()
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.ConfigMap()}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.HeadlessService()}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.PodDisruptionBudget()}},
	}
	for _, svc := range workload.ClientServices(bp) {
		objs = append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc.Name}})
	}
	return objs
}

func liveClaims(claims []corev1.PersistentVolumeClaim) int {
	n := 0
	for _, c := range claims {
		if c.DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n
}
