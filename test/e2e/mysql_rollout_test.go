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

// checkMySQLRollingRestart changes a server parameter while a writer runs and checks
// that every member restarts with it, replicas first from the highest ordinal, and the
// primary last after a switchover; that writes pause only briefly; and that no
// acknowledged write is lost.
func checkMySQLRollingRestart(t *testing.T) {
	ctx := context.Background()
	primary := mysqlPrimary(ctx, t)
	pods, err := podsOf(ctx, "mysql", "mysql-sample")
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]types.UID{}
	for _, p := range pods {
		before[p.Name] = p.UID
	}
	w := startMySQLWriter(t)

	c := mysqlSample(ctx, t)
	value := "301"
	if c.Spec.Parameters["max_connections"] == value {
		value = "302" // a kept cluster that already ran this test
	}
	patch := client.MergeFrom(c.DeepCopy())
	if c.Spec.Parameters == nil {
		c.Spec.Parameters = map[string]string{}
	}
	c.Spec.Parameters["max_connections"] = value
	started := time.Now()
	if err := k8s.Patch(ctx, c, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Minute, "every member restarted and replication healthy", func() error {
		pods, err := podsOf(ctx, "mysql", "mysql-sample")
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.UID == before[p.Name] || !podReady(&p) {
				return fmt.Errorf("%s not restarted and ready yet", p.Name)
			}
		}
		c := mysqlSample(ctx, t)
		if r := c.Status.Replication; r == nil || r.State != "Healthy" || len(r.Members) != 3 || c.Status.Phase != v1alpha1.PhaseReady {
			return fmt.Errorf("phase %s, replication %+v", c.Status.Phase, r)
		}
		return nil
	}, 2*time.Second)
	took := time.Since(started)
	w.stop()
	pause := w.longestPause()
	timings.add("mysql rolling restart (3 members) → done", took)
	timings.add("mysql rolling restart → longest write pause", pause)
	t.Logf("rolling restart took %s; longest pause between acknowledged writes %s", took.Round(time.Second), pause.Round(time.Millisecond))
	if pause > failoverBudget {
		t.Errorf("writes paused for %s, over the %s budget", pause, failoverBudget)
	}

	// Order: by the new pods' creation, replicas from the highest ordinal down, the
	// old primary last — and it had handed over before its pod went away.
	pods, err = podsOf(ctx, "mysql", "mysql-sample")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var order []string
	for _, p := range pods {
		order = append(order, p.Name)
	}
	var replicas []string
	for _, name := range []string{"mysql-sample-2", "mysql-sample-1", "mysql-sample-0"} {
		if name != primary {
			replicas = append(replicas, name)
		}
	}
	if want := append(replicas, primary); !slices.Equal(order, want) {
		t.Errorf("members restarted in the order %v, want %v (replicas from the highest ordinal, then the primary %s)", order, want, primary)
	}
	c = mysqlSample(ctx, t)
	last := c.Status.Replication.LastFailover
	if last == nil || last.Kind != "Switchover" || last.From != primary {
		t.Errorf("last primary change %+v, want a switchover away from %s", last, primary)
	} else if restarted := pods[len(pods)-1]; last.At.After(restarted.CreationTimestamp.Time) {
		t.Errorf("the switchover (%s) came after %s was recreated (%s)", last.At, restarted.Name, restarted.CreationTimestamp)
	}
	checkMySQLConsistent(ctx, t, w, "the rolling restart")

	// Every member runs with the new setting.
	for _, p := range pods {
		out, err := inPod(ctx, p.Name, "mysql", `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h 127.0.0.1 -uroot -N -B -e "SELECT @@max_connections"`)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out); got != value {
			t.Errorf("%s runs with max_connections %s, want %s", p.Name, got, value)
		}
	}
}
