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

// store is one engine's sample cluster as the failover tests write to it: through
// its primary Service, from a client pod outside the members (so the writer keeps
// going while any member restarts), with credentials from the cluster's Secret in the
// client's environment, never on a command line.
type store struct {
	engine, cluster string
	// clientPod runs the engine's image as a client; its container is named engine.
	clientPod string
	// secretEnv maps environment variables of the client to keys of the Secret.
	secretEnv map[string]string
	// reset empties the test's data; insert writes row id and errs unless the server
	// acknowledged it as the test requires; ids lists the rows the primary holds.
	reset  string
	insert func(id int) string
	acked  func(out string, err error) bool
	ids    string
}

func (s store) sample(ctx context.Context, t *testing.T) v1alpha1.Cluster {
	t.Helper()
	var c v1alpha1.Cluster = &v1alpha1.MySQLCluster{}
	if s.engine == "redis" {
		c = &v1alpha1.RedisCluster{}
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: s.cluster}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s store) primary(ctx context.Context, t *testing.T) string {
	t.Helper()
	return s.sample(ctx, t).GetClusterStatus().CurrentPrimary
}

// startClient runs the client pod until the test ends.
func (s store) startClient(ctx context.Context, t *testing.T) {
	t.Helper()
	c := s.sample(ctx, t)
	var sts appsv1.StatefulSet
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: s.cluster}, &sts); err != nil {
		t.Fatal(err)
	}
	var env []corev1.EnvVar
	for name, key := range s.secretEnv {
		env = append(env, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: c.GetClusterStatus().CredentialsSecret}, Key: key,
		}}})
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: s.clientPod, Namespace: samplesNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: s.engine, Image: sts.Spec.Template.Spec.Containers[0].Image, ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sleep", "infinity"}, Env: env,
		}}, TerminationGracePeriodSeconds: new(int64)},
	}
	if err := k8s.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pod) })
	eventually(t, 2*time.Minute, "the client pod runs", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		if !podReady(pod) {
			return fmt.Errorf("phase %s", pod.Status.Phase)
		}
		return nil
	})
}

func (s store) run(ctx context.Context, script string) (string, error) {
	return inPod(ctx, s.clientPod, s.engine, script)
}

// writer writes numbered rows through the primary Service and remembers every write
// the server acknowledged, and when.
type writer struct {
	s     store
	mu    sync.Mutex
	acked []int
	at    []time.Time
	stop  func()
}

// startWriter empties the test's data and starts writing; it returns once writes
// flow. The caller stops it with w.stop.
func (s store) startWriter(t *testing.T) *writer {
	t.Helper()
	ctx := context.Background()
	if out, err := s.run(ctx, s.reset); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	w := &writer{s: s}
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

func (w *writer) run(ctx context.Context) {
	for id := 1; ctx.Err() == nil; {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := w.s.run(cctx, w.s.insert(id))
		cancel()
		if w.s.acked(out, err) {
			w.mu.Lock()
			w.acked, w.at = append(w.acked, id), append(w.at, time.Now())
			w.mu.Unlock()
			id++
			continue
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *writer) lastAck() (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acked) == 0 {
		return 0, time.Time{}
	}
	return w.acked[len(w.acked)-1], w.at[len(w.at)-1]
}

// longestPause is the longest time between two acknowledged writes.
func (w *writer) longestPause() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	for i := 1; i < len(w.at); i++ {
		longest = max(longest, w.at[i].Sub(w.at[i-1]))
	}
	return longest
}

// disruption takes the primary away; undo (may be nil) gives back what it took that
// the cluster cannot recover by itself, such as a node.
type disruption func(ctx context.Context, s store, primary string) (undo func(), err error)

// checkFailover disrupts the primary with disrupt while a writer runs, then checks
// that writes resume through the primary Service within the budget, that the
// Service's pod is the one status names, and that no acknowledged write is missing.
func (s store) checkFailover(t *testing.T, label string, mustMove bool, disrupt disruption) {
	ctx := context.Background()
	primary := s.primary(ctx, t)
	w := s.startWriter(t)

	disruptedAt := time.Now()
	undo, err := disrupt(ctx, s, primary)
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
	now := s.primary(ctx, t)
	outcome := "failover to " + now
	if now == primary {
		outcome = primary + " came back as primary"
	}
	timings.add(fmt.Sprintf("%s %s → writes resume (%s)", s.engine, label, outcome), rto)
	t.Logf("%s: %s; writes resumed after %s", label, outcome, rto.Round(time.Millisecond))
	if mustMove && now == primary {
		t.Errorf("%s: the primary did not move", label)
	}
	if rto > failoverBudget {
		t.Errorf("writes resumed after %s, over the %s budget", rto, failoverBudget)
	}
	w.stop()
	s.checkConsistent(ctx, t, w, label)
	if undo != nil {
		undo()
	}
	s.waitHealthy(ctx, t)
}

// checkConsistent checks that the primary Service selects exactly the pod status
// names, and that no acknowledged write is missing on it.
func (s store) checkConsistent(ctx context.Context, t *testing.T, w *writer, label string) {
	t.Helper()
	now := s.primary(ctx, t)
	var selected corev1.PodList
	if err := k8s.List(ctx, &selected, client.InNamespace(samplesNS), client.MatchingLabels{
		"app.kubernetes.io/instance": s.cluster, "stowage.dev/role": "primary"}); err != nil {
		t.Fatal(err)
	}
	if n := len(selected.Items); n != 1 {
		t.Errorf("%d pods labelled primary, want 1", n)
	} else if got := selected.Items[0].Name; got != now {
		t.Errorf("the primary label is on %s, status names %s", got, now)
	}
	out, err := s.run(ctx, s.ids)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
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

// replication is the data plane's state, member count and last primary change as
// status reports them.
func (s store) replication(ctx context.Context, t *testing.T) (state string, members int, last *v1alpha1.PrimaryChange) {
	t.Helper()
	switch c := s.sample(ctx, t).(type) {
	case *v1alpha1.MySQLCluster:
		if r := c.Status.Replication; r != nil {
			return r.State, len(r.Members), r.LastFailover
		}
	case *v1alpha1.RedisCluster:
		if r := c.Status.Replication; r != nil {
			return r.State, len(r.Members), r.LastFailover
		}
	}
	return "", 0, nil
}

// setting is a script, run in a member, whose last word is the server's value of
// param.
func (s store) setting(param string) string {
	if s.engine == "redis" {
		return `redis-cli -h 127.0.0.1 CONFIG GET ` + param
	}
	return `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -h 127.0.0.1 -uroot -N -B -e "SELECT @@` + param + `"`
}

// waitHealthy waits until every member is Ready and replicating again.
func (s store) waitHealthy(ctx context.Context, t *testing.T) {
	t.Helper()
	eventually(t, 3*time.Minute, "replication is healthy again", func() error {
		if state, members, _ := s.replication(ctx, t); state != "Healthy" || members != 3 {
			return fmt.Errorf("replication %s with %d members", state, members)
		}
		return nil
	}, 2*time.Second)
}

// deletePod deletes the primary's pod, as a drained node or a human would, and
// returns once the old pod is gone.
func deletePod(ctx context.Context, _ store, primary string) (func(), error) {
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

// killServer kills the primary's server process with SIGKILL from the kind node it
// runs on, as a crash would; the kubelet restarts the container.
func killServer(ctx context.Context, s store, primary string) (func(), error) {
	var p corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: primary}, &p); err != nil {
		return nil, err
	}
	script := fmt.Sprintf(`for d in /proc/[0-9]*; do
  [ "$(cat $d/comm 2>/dev/null)" = %s ] || continue
  [ "$(cat $d/root/etc/hostname 2>/dev/null)" = %s ] || continue
  kill -9 "${d#/proc/}" && echo killed "${d#/proc/}"
done`, map[string]string{"mysql": "mariadbd", "redis": "redis-server"}[s.engine], primary)
	out, err := exec.CommandContext(ctx, "docker", "exec", p.Spec.NodeName, "sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "killed") {
		return nil, fmt.Errorf("killing the server of %s on %s: %v: %s", primary, p.Spec.NodeName, err, out)
	}
	return nil, nil
}

// loseNode makes the primary's node unschedulable and deletes the pod: its volume is
// local to that node, so the member stays away until the node returns, as after a
// node failure. The primary must move; undo brings the node back.
func loseNode(ctx context.Context, s store, primary string) (func(), error) {
	var p corev1.Pod
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: primary}, &p); err != nil {
		return nil, err
	}
	node := p.Spec.NodeName
	if _, err := kubectl(ctx, "cordon", node); err != nil {
		return nil, err
	}
	undo := func() { _, _ = kubectl(context.Background(), "uncordon", node) }
	_, err := deletePod(ctx, s, primary)
	return undo, err
}
