package clustertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/workload"
)

// RunRollout changes a parameter of a ready 3-member cluster and checks that the
// operator restarts the members one at a time, highest ordinal first, and the
// primary last. The primary is moved to ordinal 1 first, so "primary last" and
// "highest ordinal first" give different orders.
func RunRollout(t *testing.T, e *testenv.Env, tc Case) {
	ctx := context.Background()
	ns := e.Namespace(t)
	StartManager(t, e, tc.Engine)
	c := tc.New(metav1.ObjectMeta{Name: "roll", Namespace: ns}, workloadSpec(3, v1alpha1.VolumeDelete))
	c.GetWorkload().Parameters = map[string]string{tc.Parameter: tc.ParameterValue}
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatalf("creating the cluster: %v", err)
	}
	bp, err := tc.Engine.Blueprint(c)
	if err != nil {
		t.Fatal(err)
	}
	waitForReadyMembers(t, e, tc.Engine.Name(), c, 3)
	n := names(c)
	want := []string{n.Pod(2), n.Pod(1), n.Pod(0)}
	if bp.HasPrimary {
		// Stand in for a failover that made ordinal 1 the primary.
		patch := client.MergeFrom(c.DeepCopyObject().(client.Object))
		c.GetClusterStatus().CurrentPrimary = n.Pod(1)
		if err := e.Client.Status().Patch(ctx, c, patch); err != nil {
			t.Fatal(err)
		}
		want = []string{n.Pod(2), n.Pod(0), n.Pod(1)}
	}

	sel := workload.SelectorLabels(bp.Engine, c.GetName())
	before := map[string]types.UID{}
	var pods corev1.PodList
	if err := e.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(sel)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		before[p.Name] = p.UID
	}
	mutate(t, e, c, func(c v1alpha1.Cluster) { c.GetWorkload().Parameters[tc.Parameter] = tc.ParameterValue + "1" })

	// Play the kubelet and note the order in which members come back as new pods.
	var restarted []string
	testenv.Eventually(t, 2*timeout, "every member restarted and the cluster Ready", func() error {
		if _, err := e.MarkMembersReady(ctx, ns, sel); err != nil {
			return err
		}
		if err := e.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(sel)); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.UID != before[p.Name] && !slices.Contains(restarted, p.Name) {
				restarted = append(restarted, p.Name)
			}
		}
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		s := c.GetClusterStatus()
		if len(restarted) < 3 || s.Phase != v1alpha1.PhaseReady || s.ObservedGeneration != c.GetGeneration() {
			time.Sleep(100 * time.Millisecond)
			return fmt.Errorf("restarted %v, phase %q", restarted, s.Phase)
		}
		return nil
	})
	if !slices.Equal(restarted, want) {
		t.Errorf("members restarted in the order %v, want %v", restarted, want)
	}
	checkEvent(t, e, c, "RollingRestart")
}
