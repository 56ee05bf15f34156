//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// checkRollingRestart changes a server parameter while a writer runs and checks that
// every member restarts with it, replicas first from the highest ordinal, and the
// primary last after a switchover; that writes pause only briefly; and that no
// acknowledged write is lost. The parameter is set to value, or to other when a kept
// cluster has value already.
func (s store) checkRollingRestart(t *testing.T, param, value, other string) {
	ctx := context.Background()
	// Start from a settled cluster: a member not ready yet would (rightly) be
	// restarted first, out of the order this test checks.
	var pods []corev1.Pod
	eventually(t, 3*time.Minute, "every member ready", func() error {
		var err error
		if pods, err = podsOf(ctx, s.engine, s.cluster); err != nil {
			return err
		}
		for _, p := range pods {
			if !podReady(&p) {
				return fmt.Errorf("%s is not ready", p.Name)
			}
		}
		if c := s.sample(ctx, t); c.GetClusterStatus().Phase != v1alpha1.PhaseReady {
			return fmt.Errorf("phase %s", c.GetClusterStatus().Phase)
		}
		return nil
	}, 2*time.Second)
	primary := s.primary(ctx, t)
	before := map[string]types.UID{}
	for _, p := range pods {
		before[p.Name] = p.UID
	}
	w := s.startWriter(t)

	c := s.sample(ctx, t)
	params := c.GetWorkload().Parameters
	if params[param] == value {
		value = other
	}
	patch := client.MergeFrom(c.DeepCopyObject().(client.Object))
	if params == nil {
		params = map[string]string{}
	}
	params[param] = value
	c.GetWorkload().Parameters = params
	started := time.Now()
	if err := k8s.Patch(ctx, c, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Minute, "every member restarted and replication healthy", func() error {
		pods, err := podsOf(ctx, s.engine, s.cluster)
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.UID == before[p.Name] || !podReady(&p) {
				return fmt.Errorf("%s not restarted and ready yet", p.Name)
			}
		}
		state, members, _ := s.replication(ctx, t)
		if phase := s.sample(ctx, t).GetClusterStatus().Phase; state != "Healthy" || members != 3 || phase != v1alpha1.PhaseReady {
			return fmt.Errorf("phase %s, replication %s with %d members", phase, state, members)
		}
		return nil
	}, 2*time.Second)
	took := time.Since(started)
	w.stop()
	pause := w.longestPause()
	timings.add(s.engine+" rolling restart (3 members) → done", took)
	timings.add(s.engine+" rolling restart → longest write pause", pause)
	t.Logf("rolling restart took %s; longest pause between acknowledged writes %s", took.Round(time.Second), pause.Round(time.Millisecond))
	if pause > failoverBudget {
		t.Errorf("writes paused for %s, over the %s budget", pause, failoverBudget)
	}

	// Order: by the new pods' creation, replicas from the highest ordinal down, the
	// old primary last — and it had handed over before its pod went away.
	pods, err := podsOf(ctx, s.engine, s.cluster)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var order []string
	for _, p := range pods {
		order = append(order, p.Name)
	}
	var replicas []string
	for _, name := range []string{s.cluster + "-2", s.cluster + "-1", s.cluster + "-0"} {
		if name != primary {
			replicas = append(replicas, name)
		}
	}
	if want := append(replicas, primary); !slices.Equal(order, want) {
		t.Errorf("members restarted in the order %v, want %v (replicas from the highest ordinal, then the primary %s)", order, want, primary)
	}
	_, _, last := s.replication(ctx, t)
	if last == nil || last.Kind != "Switchover" || last.From != primary {
		t.Errorf("last primary change %+v, want a switchover away from %s", last, primary)
	} else if restarted := pods[len(pods)-1]; last.At.After(restarted.CreationTimestamp.Time) {
		t.Errorf("the switchover (%s) came after %s was recreated (%s)", last.At, restarted.Name, restarted.CreationTimestamp)
	}
	s.checkConsistent(ctx, t, w, "the rolling restart")

	// Every member runs with the new setting.
	for _, p := range pods {
		out, err := inPod(ctx, p.Name, s.engine, s.setting(param))
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(out); len(f) == 0 || f[len(f)-1] != value {
			t.Errorf("%s runs with %s %q, want %s", p.Name, param, out, value)
		}
	}
}
