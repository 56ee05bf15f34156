//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// failoverBudget is generous: detection grace (5 s) plus pod scheduling noise on a
// two-core machine. The measured figure is printed in the timing table.
const failoverBudget = 60 * time.Second

// mysqlClientPod runs the mariadb client outside the cluster's members, so a writer
// keeps going while any member restarts; the root password reaches it through its
// environment, from the cluster's Secret, never a command line.
const mysqlClientPod = "e2e-mysql-client"

func startMySQLClient(ctx context.Context, t *testing.T) {
	t.Helper()
	c := &v1alpha1.MySQLCluster{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: "mysql-sample"}, c); err != nil {
		t.Fatal(err)
	}
	var sts appsv1.StatefulSet
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: "mysql-sample"}, &sts); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: mysqlClientPod, Namespace: samplesNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "mysql", Image: sts.Spec.Template.Spec.Containers[0].Image, ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sleep", "infinity"},
			Env: []corev1.EnvVar{{Name: "MARIADB_ROOT_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: c.Status.CredentialsSecret}, Key: "root-password",
			}}}},
		}}, TerminationGracePeriodSeconds: new(int64)},
	}
	if err := k8s.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pod) })
	eventually(t, 2*time.Minute, "the mysql client pod runs", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		if !podReady(pod) {
			return fmt.Errorf("phase %s", pod.Status.Phase)
		}
		return nil
	})
}

// mysqlWriter inserts numbered rows through the primary Service from the client pod
// and remembers every insert the server acknowledged, and when.
type mysqlWriter struct {
	mu    sync.Mutex
	acked []int
	at    []time.Time
	stop  func()
}

// startMySQLWriter empties the test table and starts writing; it returns once writes
// flow. The caller stops it with w.stop.
func startMySQLWriter(t *testing.T) *mysqlWriter {
	t.Helper()
	ctx := context.Background()
	if _, err := mysqlClient(ctx, "CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.w (id INT PRIMARY KEY); TRUNCATE e2e.w"); err != nil {
		t.Fatal(err)
	}
	w := &mysqlWriter{}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.run(wctx) }()
	var once sync.Once
	w.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(w.stop)
	eventually(t, time.Minute, "writes flow", func() error {
		if n, _ := w.lastAck(); n < 3 {
			return fmt.Errorf("%d writes so far", n)
		}
		return nil
	}, 200*time.Millisecond)
	return w
}

func mysqlClient(ctx context.Context, stmt string) (string, error) {
	return inPod(ctx, mysqlClientPod, "mysql", fmt.Sprintf(
		`MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h mysql-sample-primary -uroot --connect-timeout=2 -N -B -e "%s" 2>&1`, stmt))
}

func (w *mysqlWriter) run(ctx context.Context) {
	for id := 1; ctx.Err() == nil; {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := mysqlClient(cctx, fmt.Sprintf("INSERT INTO e2e.w VALUES (%d)", id))
		cancel()
		// A duplicate is an insert that committed although its acknowledgement was lost
		// with the connection: it counts, and the next id follows.
		if err == nil || strings.Contains(out, "Duplicate entry") {
			w.mu.Lock()
			w.acked, w.at = append(w.acked, id), append(w.at, time.Now())
			w.mu.Unlock()
			id++
			continue
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *mysqlWriter) lastAck() (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acked) == 0 {
		return 0, time.Time{}
	}
	return w.acked[len(w.acked)-1], w.at[len(w.at)-1]
}

// longestPause is the longest time between two acknowledged writes.
func (w *mysqlWriter) longestPause() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	for i := 1; i < len(w.at); i++ {
		longest = max(longest, w.at[i].Sub(w.at[i-1]))
	}
	return longest
}

func mysqlSample(ctx context.Context, t *testing.T) *v1alpha1.MySQLCluster {
	t.Helper()
	c := &v1alpha1.MySQLCluster{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: "mysql-sample"}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mysqlPrimary(ctx context.Context, t *testing.T) string {
	t.Helper()
	return mysqlSample(ctx, t).Status.CurrentPrimary
}

// disruption takes the primary away; undo (may be nil) gives back what it took that
// the cluster cannot recover by itself, such as a node.
type disruption func(ctx context.Context, primary string) (undo func(), err error)

// checkMySQLFailover disrupts the primary with disrupt while a writer runs, then
// checks that writes resume through the primary Service within the budget, that the
// Service's pod is the one status names, and that no acknowledged row is missing.
func checkMySQLFailover(t *testing.T, label string, mustMove bool, disrupt disruption) {
	ctx := context.Background()
	primary := mysqlPrimary(ctx, t)
	w := startMySQLWriter(t)

	disruptedAt := time.Now()
	undo, err := disrupt(ctx, primary)
	if undo != nil {
		defer undo() // also when the test fails before it heals the cluster
	}
	if err != nil {
		t.Fatal(err)
	}
	// A deleted pod's server serves until its shutdown completes; only writes after
	// that count.
	stoppedAt := time.Now()
	eventually(t, failoverBudget+time.Minute, "a write is acknowledged through the primary Service after the disruption", func() error {
		if _, at := w.lastAck(); at.After(stoppedAt) {
			return nil
		}
		return fmt.Errorf("no write since the disruption")
	}, 200*time.Millisecond)
	_, at := w.lastAck()
	rto := at.Sub(disruptedAt)
	now := mysqlPrimary(ctx, t)
	outcome := "failover to " + now
	if now == primary {
		outcome = primary + " came back as primary"
	}
	timings.add(fmt.Sprintf("mysql %s → writes resume (%s)", label, outcome), rto)
	t.Logf("%s: %s; writes resumed after %s", label, outcome, rto.Round(time.Millisecond))
	if mustMove && now == primary {
		t.Errorf("%s: the primary did not move", label)
	}
	if rto > failoverBudget {
		t.Errorf("writes resumed after %s, over the %s budget", rto, failoverBudget)
	}
	w.stop()
	checkMySQLConsistent(ctx, t, w, label)
	if undo != nil {
		undo()
	}
	waitMySQLHealthy(ctx, t)
}

// checkMySQLConsistent checks that the primary Service selects exactly the pod status
// names, and that no acknowledged write is missing on it.
func checkMySQLConsistent(ctx context.Context, t *testing.T, w *mysqlWriter, label string) {
	t.Helper()
	now := mysqlPrimary(ctx, t)
	var selected corev1.PodList
	if err := k8s.List(ctx, &selected, client.InNamespace(samplesNS), client.MatchingLabels{
		"app.kubernetes.io/instance": "mysql-sample", "stowage.dev/role": "primary"}); err != nil {
		t.Fatal(err)
	}
	if n := len(selected.Items); n != 1 {
		t.Errorf("%d pods labelled primary, want 1", n)
	} else if got := selected.Items[0].Name; got != now {
		t.Errorf("the primary label is on %s, status names %s", got, now)
	}
	out, err := mysqlClient(ctx, "SELECT id FROM e2e.w")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, id := range strings.Fields(out) {
		have[id] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var lost []int
	for _, id := range w.acked {
		if !have[fmt.Sprint(id)] {
			lost = append(lost, id)
		}
	}
	t.Logf("%d acknowledged writes, %d lost", len(w.acked), len(lost))
	if len(lost) > 0 {
		t.Errorf("acknowledged writes missing after %s: %v", label, lost)
	}
}

// waitMySQLHealthy waits until every member is Ready and replicating again.
func waitMySQLHealthy(ctx context.Context, t *testing.T) {
	t.Helper()
	eventually(t, 3*time.Minute, "replication is healthy again", func() error {
		c := &v1alpha1.MySQLCluster{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: "mysql-sample"}, c); err != nil {
			return err
		}
		if r := c.Status.Replication; r == nil || r.State != "Healthy" || len(r.Members) != 3 {
			return fmt.Errorf("replication %+v", r)
		}
		return nil
	}, 2*time.Second)
}

// deletePod deletes the primary's pod, as a drained node or a human would, and
// returns once the old pod is gone.
func deletePod(ctx context.Context, primary string) (func(), error) {
	var old corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: primary}, &old); err != nil {
		return nil, err
	}
	if err := k8s.Delete(ctx, &old); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var p corev1.Pod
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&old), &p)
		if apierrors.IsNotFound(err) || (err == nil && p.UID != old.UID) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s was not deleted", primary)
}

// killServer kills the primary's mariadbd with SIGKILL from the kind node it runs
// on, as a crash would; the kubelet restarts the container.
func killServer(ctx context.Context, primary string) (func(), error) {
	var p corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: primary}, &p); err != nil {
		return nil, err
	}
	script := fmt.Sprintf(`for d in /proc/[0-9]*; do
  [ "$(cat $d/comm 2>/dev/null)" = mariadbd ] || continue
  tr '\0' '\n' < $d/environ 2>/dev/null | grep -qx 'POD_NAME=%s' || continue
  kill -9 "${d#/proc/}" && echo killed "${d#/proc/}"
done`, primary)
	out, err := exec.CommandContext(ctx, "docker", "exec", p.Spec.NodeName, "sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "killed") {
		return nil, fmt.Errorf("killing mariadbd of %s on %s: %v: %s", primary, p.Spec.NodeName, err, out)
	}
	return nil, nil
}

// loseNode makes the primary's node unschedulable and deletes the pod: its volume is
// local to that node, so the member stays away until the node returns, as after a
// node failure. The primary must move; undo brings the node back.
func loseNode(ctx context.Context, primary string) (func(), error) {
	var p corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: primary}, &p); err != nil {
		return nil, err
	}
	node := p.Spec.NodeName
	if _, err := kubectl(ctx, "cordon", node); err != nil {
		return nil, err
	}
	undo := func() { _, _ = kubectl(context.Background(), "uncordon", node) }
	_, err := deletePod(ctx, primary)
	return undo, err
}
