package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/operators/redis"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/backup/controller"
	"github.com/stowage/stowage/pkg/workload"
)

var env testenv.Shared

func TestMain(m *testing.M) { os.Exit(env.Run(m)) }

// startBackups runs the Backup controller on a manager of its own.
func startBackups(t *testing.T, e *testenv.Env) *record.FakeRecorder {
	t.Helper()
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		// Each test runs its own manager with the same controllers.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.NewFakeRecorder(100)
	r := &controller.BackupReconciler{Jobs: testJobs(mgr.GetClient(), rec)}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = mgr.Start(ctx) }()
	t.Cleanup(cancel)
	return rec
}

func testJobs(c client.Client, rec record.EventRecorder) controller.Jobs {
	return controller.Jobs{Client: c, Recorder: rec, Image: "stowage.dev/stowage-operator:test",
		Profiles: map[string]controller.Profile{"RedisCluster": redis.BackupProfile(redis.DefaultOptions())}}
}

// redisMembers creates a RedisCluster and plays its members: ready pods labelled with
// their roles, r-0 the primary.
func redisMembers(t *testing.T, e *testenv.Env, ns string) {
	t.Helper()
	ctx := context.Background()
	c := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: ns},
		Spec: v1alpha1.RedisClusterSpec{WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 3, Storage: v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}}}}
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i, role := range []string{workload.RolePrimary, workload.RoleReplica, workload.RoleReplica} {
		labels := workload.SelectorLabels("redis", "cache")
		labels[workload.LabelRole] = role
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cache-%d", i), Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "redis", Image: "redis"}}}}
		if err := e.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.MarkMembersReady(ctx, ns, workload.SelectorLabels("redis", "cache")); err != nil {
		t.Fatal(err)
	}
}

// finishJobPod plays the kubelet for a job's pod: it ends with the given termination
// message and phase; the real Job controller then completes or fails the Job.
func finishJobPod(t *testing.T, e *testenv.Env, ns, job string, phase corev1.PodPhase, message string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, "the job controller creates the job's pod", func() error {
		var pods corev1.PodList
		if err := e.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"batch.kubernetes.io/job-name": job}); err != nil {
			return err
		}
		if len(pods.Items) != 1 {
			return fmt.Errorf("%d pods", len(pods.Items))
		}
		p := pods.Items[0]
		code := int32(0)
		if phase == corev1.PodFailed {
			code = 1
		}
		now := metav1.Now()
		p.Status.Phase = phase
		p.Status.StartTime = &now
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Message: message, StartedAt: now, FinishedAt: now}}}}
		return e.Client.Status().Update(ctx, &p)
	})
}

func waitPhase(t *testing.T, e *testenv.Env, ns, name string, phase v1alpha1.BackupPhase) *v1alpha1.Backup {
	t.Helper()
	b := &v1alpha1.Backup{}
	testenv.Eventually(t, 60*time.Second, "Backup "+name+" is "+string(phase), func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
			return err
		}
		if b.Status.Phase != phase {
			return fmt.Errorf("phase %q, status %+v", b.Status.Phase, b.Status)
		}
		return nil
	})
	return b
}

// TestEnvtestBackupJobLifecycle: a Backup of a RedisCluster becomes a Job reading a
// ready replica, with the target, the job spec and the credentials by reference; the
// Job's end (played through the real Job controller) becomes the Backup's status,
// successful or not, with Events.
func TestEnvtestBackupJobLifecycle(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	rec := startBackups(t, e)
	redisMembers(t, e, ns)

	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns},
		Spec: v1alpha1.BackupSpec{BackupTemplate: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: "RedisCluster", Name: "cache"},
			Target: v1alpha1.BackupTarget{S3: &v1alpha1.S3Target{Endpoint: "s3.example:9000", Bucket: "backups", Prefix: "team",
				CredentialsSecretRef: corev1.LocalObjectReference{Name: "s3-creds"}}}}}}
	if err := e.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	running := waitPhase(t, e, ns, "nightly", v1alpha1.BackupRunning)
	if running.Status.SourceInstance != "cache-2" || running.Status.Location != ns+"/cache/nightly" || running.Status.StartedAt == nil {
		t.Errorf("running status %+v", running.Status)
	}
	job := &batchv1.Job{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "backup-nightly"}, job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	envs := map[string]corev1.EnvVar{}
	for _, v := range c.Env {
		envs[v.Name] = v
	}
	var spec backup.JobSpec
	if err := json.Unmarshal([]byte(envs[backup.EnvJob].Value), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Kind != "backup" || spec.Engine != "redis" || spec.Member != "cache-2" || spec.MemberAddr != "cache-2.cache-headless."+ns+".svc:6379" ||
		spec.Target.S3 == nil || spec.Target.S3.Bucket != "backups" || spec.Location != ns+"/cache/nightly" {
		t.Errorf("job spec %+v", spec)
	}
	if ref := envs[backup.EnvPassword].ValueFrom.SecretKeyRef; ref == nil || ref.Name != "cache-credentials" || ref.Key != redis.KeyPassword {
		t.Errorf("password from %+v", envs[backup.EnvPassword])
	}
	if ref := envs[backup.EnvS3SecretKey].ValueFrom.SecretKeyRef; ref == nil || ref.Name != "s3-creds" {
		t.Errorf("S3 secret from %+v", envs[backup.EnvS3SecretKey])
	}
	if strings.Contains(envs[backup.EnvJob].Value, "password") || c.Image != "stowage.dev/stowage-operator:test" || job.Spec.Template.Spec.ServiceAccountName != controller.JobServiceAccount {
		t.Errorf("job: image %s account %s env %s", c.Image, job.Spec.Template.Spec.ServiceAccountName, envs[backup.EnvJob].Value)
	}
	var sa corev1.ServiceAccount
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: controller.JobServiceAccount}, &sa); err != nil {
		t.Errorf("the jobs' service account: %v", err)
	}

	result, _ := json.Marshal(backup.Result{Location: spec.Location, Source: "cache-2", Position: "abc:42", Bytes: 1234, RawBytes: 5000})
	finishJobPod(t, e, ns, "backup-nightly", corev1.PodSucceeded, string(result))
	done := waitPhase(t, e, ns, "nightly", v1alpha1.BackupCompleted)
	if done.Status.Bytes != 1234 || done.Status.Position != "abc:42" || done.Status.CompletedAt == nil || done.Status.Duration == nil {
		t.Errorf("completed status %+v", done.Status)
	}

	// A failing one: the job's error becomes the Backup's.
	failing := b.DeepCopy()
	failing.ObjectMeta = metav1.ObjectMeta{Name: "broken", Namespace: ns}
	failing.Spec.Source = "Primary"
	if err := e.Client.Create(ctx, failing); err != nil {
		t.Fatal(err)
	}
	if got := waitPhase(t, e, ns, "broken", v1alpha1.BackupRunning); got.Status.SourceInstance != "cache-0" {
		t.Errorf("Source Primary read %s", got.Status.SourceInstance)
	}
	failed, _ := json.Marshal(backup.Result{Error: "connecting to cache-0: connection refused"})
	finishJobPod(t, e, ns, "backup-broken", corev1.PodFailed, string(failed))
	got := waitPhase(t, e, ns, "broken", v1alpha1.BackupFailed)
	if !strings.Contains(got.Status.Error, "connection refused") {
		t.Errorf("failed status %+v", got.Status)
	}
	var reasons []string
	for len(rec.Events) > 0 {
		reasons = append(reasons, strings.Fields(<-rec.Events)[1])
	}
	if strings.Join(reasons, " ") != "BackupStarted BackupCompleted BackupStarted BackupFailed" {
		t.Errorf("events %v", reasons)
	}
}

// jobsUnseen is a client whose cache has not seen any Job yet, as a pass right after
// a Job's creation may read it: every Job read finds none.
type jobsUnseen struct{ client.Client }

func (c jobsUnseen) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*batchv1.Job); ok {
		return apierrors.NewNotFound(batchv1.Resource("jobs"), key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestEnvtestBackupStartsOnce: passes that do not see the Job their Backup already has
// (the cache lags behind its creation) neither announce the start again nor move the
// recorded start or source. A start whose record was lost is recorded again from the
// Job. Before, each such pass sent BackupStarted again and wrote a new start time and
// a freshly picked source; TestEnvtestBackupJobLifecycle once saw the second event.
func TestEnvtestBackupStartsOnce(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	redisMembers(t, e, ns)
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: ns},
		Spec: v1alpha1.BackupSpec{BackupTemplate: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: "RedisCluster", Name: "cache"},
			Target: v1alpha1.BackupTarget{PVC: &v1alpha1.PVCTarget{ClaimName: "backups"}}}}}
	if err := e.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	rec := record.NewFakeRecorder(10)
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(b)}
	reconcile := func(c client.Client) v1alpha1.BackupStatus {
		t.Helper()
		r := &controller.BackupReconciler{Jobs: testJobs(c, rec)}
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
		got := &v1alpha1.Backup{}
		if err := e.Client.Get(ctx, req.NamespacedName, got); err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	first := reconcile(jobsUnseen{e.Client})
	if first.Phase != v1alpha1.BackupRunning || first.StartedAt == nil || first.SourceInstance == "" {
		t.Fatalf("after the first pass: %+v", first)
	}
	time.Sleep(1100 * time.Millisecond) // a later start would be a later second
	for range 2 {
		if again := reconcile(jobsUnseen{e.Client}); !again.StartedAt.Equal(first.StartedAt) || again.SourceInstance != first.SourceInstance {
			t.Errorf("a pass that did not see the Job moved the start: %v from %s, first %v from %s",
				again.StartedAt, again.SourceInstance, first.StartedAt, first.SourceInstance)
		}
	}

	// The start's record lost: the next pass, which sees the Job, records it from the Job.
	lost := &v1alpha1.Backup{}
	if err := e.Client.Get(ctx, req.NamespacedName, lost); err != nil {
		t.Fatal(err)
	}
	lost.Status = v1alpha1.BackupStatus{}
	if err := e.Client.Status().Update(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if again := reconcile(e.Client); again.Phase != v1alpha1.BackupRunning || !again.StartedAt.Equal(first.StartedAt) ||
		again.SourceInstance != first.SourceInstance || again.Location != first.Location {
		t.Errorf("recorded again from the Job: %+v, first %+v", again, first)
	}
	var reasons []string
	for len(rec.Events) > 0 {
		reasons = append(reasons, strings.Fields(<-rec.Events)[1])
	}
	if strings.Join(reasons, " ") != "BackupStarted" {
		t.Errorf("events %v, want one BackupStarted", reasons)
	}
}

// TestEnvtestRestoreHoldsTheCluster: a Restore from a completed Backup becomes a Job
// loading into the primary; the cluster carries the restoring annotation (its
// data-plane manager holds still) exactly while the Job runs. A Restore from a
// Backup that has not completed waits, saying why.
func TestEnvtestRestoreHoldsTheCluster(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		// Each test runs its own manager with the same controllers.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.NewFakeRecorder(100)
	r := &controller.RestoreReconciler{Jobs: testJobs(mgr.GetClient(), rec)}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = mgr.Start(mctx) }()
	redisMembers(t, e, ns)

	done := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "last-night", Namespace: ns},
		Spec: v1alpha1.BackupSpec{BackupTemplate: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: "RedisCluster", Name: "other"},
			Target: v1alpha1.BackupTarget{PVC: &v1alpha1.PVCTarget{ClaimName: "backups"}}}}}
	pending := done.DeepCopy()
	pending.Name = "unfinished"
	for _, b := range []*v1alpha1.Backup{done, pending} {
		if err := e.Client.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	done.Status = v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, Location: ns + "/other/last-night"}
	if err := e.Client.Status().Update(ctx, done); err != nil {
		t.Fatal(err)
	}

	waiting := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "too-early", Namespace: ns},
		Spec: v1alpha1.RestoreSpec{Cluster: v1alpha1.ClusterReference{Kind: "RedisCluster", Name: "cache"}, Source: v1alpha1.RestoreSource{BackupName: "unfinished"}}}
	rs := waiting.DeepCopy()
	rs.Name, rs.Spec.Source.BackupName = "from-last-night", "last-night"
	for _, o := range []*v1alpha1.Restore{waiting, rs} {
		if err := e.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cluster := func() *v1alpha1.RedisCluster {
		c := &v1alpha1.RedisCluster{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cache"}, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	restore := func(name string, phase v1alpha1.BackupPhase) *v1alpha1.Restore {
		got := &v1alpha1.Restore{}
		testenv.Eventually(t, 60*time.Second, "Restore "+name+" is "+string(phase), func() error {
			if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
				return err
			}
			if got.Status.Phase != phase {
				return fmt.Errorf("status %+v", got.Status)
			}
			return nil
		})
		return got
	}
	if w := restore("too-early", v1alpha1.BackupPending); !strings.Contains(w.Status.Conditions[0].Message, "unfinished is not started") {
		t.Errorf("waiting restore: %+v", w.Status.Conditions)
	}
	restore("from-last-night", v1alpha1.BackupRunning)
	if got := cluster().Annotations[v1alpha1.AnnotationRestoring]; got != "from-last-night" {
		t.Errorf("restoring annotation %q while the job runs", got)
	}
	job := &batchv1.Job{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "restore-from-last-night"}, job); err != nil {
		t.Fatal(err)
	}
	var spec backup.JobSpec
	for _, v := range job.Spec.Template.Spec.Containers[0].Env {
		if v.Name == backup.EnvJob {
			_ = json.Unmarshal([]byte(v.Value), &spec)
		}
	}
	if spec.Kind != "restore" || spec.Member != "cache-0" || spec.Location != ns+"/other/last-night" || spec.Target.Dir != "/backups" || spec.Force {
		t.Errorf("restore job spec %+v", spec)
	}
	if v := job.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].PersistentVolumeClaim.ClaimName != "backups" {
		t.Errorf("volumes %+v", v)
	}
	result, _ := json.Marshal(backup.Result{Source: "other-1", Position: "abc:42", Bytes: 99})
	finishJobPod(t, e, ns, "restore-from-last-night", corev1.PodSucceeded, string(result))
	if got := restore("from-last-night", v1alpha1.BackupCompleted); got.Status.Bytes != 99 || got.Status.SourceInstance != "other-1" || got.Status.Duration == nil {
		t.Errorf("completed %+v", got.Status)
	}
	if _, held := cluster().Annotations[v1alpha1.AnnotationRestoring]; held {
		t.Error("the cluster is still held after the restore")
	}
}

// playJobs plays the kubelet for every backup and delete job that appears: each ends
// successfully, a backup with a small result. It stops with the test.
func playJobs(t *testing.T, e *testenv.Env, ns string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for ctx.Err() == nil {
			var pods corev1.PodList
			if err := e.Client.List(ctx, &pods, client.InNamespace(ns), client.HasLabels{"batch.kubernetes.io/job-name"}); err == nil {
				for _, p := range pods.Items {
					if p.Status.Phase != "" && p.Status.Phase != corev1.PodPending {
						continue
					}
					res, _ := json.Marshal(backup.Result{Position: "abc:1", Bytes: 10})
					now := metav1.Now()
					p.Status.Phase = corev1.PodSucceeded
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image,
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: string(res), StartedAt: now, FinishedAt: now}}}}
					_ = e.Client.Status().Update(ctx, &p)
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

// TestEnvtestScheduleRunsAndPrunes: a schedule every 3 s with Forbid skips while its
// backup runs; once backups finish it takes one per period, and keepLast 2 deletes
// the older ones — each through a job that deletes its data (the Backup's
// finalizer) before the Backup goes.
func TestEnvtestScheduleRunsAndPrunes(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	rec := startBackups(t, e)
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		// Each test runs its own manager with the same controllers.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	srec := record.NewFakeRecorder(100)
	if err := (&controller.ScheduleReconciler{Client: mgr.GetClient(), Recorder: srec}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = mgr.Start(mctx) }()
	redisMembers(t, e, ns)

	keep := int32(2)
	s := &v1alpha1.BackupSchedule{ObjectMeta: metav1.ObjectMeta{Name: "often", Namespace: ns},
		Spec: v1alpha1.BackupScheduleSpec{Schedule: "@every 3s", ConcurrencyPolicy: "Forbid", Retention: &v1alpha1.BackupRetention{KeepLast: &keep},
			Template: v1alpha1.BackupTemplate{Cluster: v1alpha1.ClusterReference{Kind: "RedisCluster", Name: "cache"},
				Target: v1alpha1.BackupTarget{PVC: &v1alpha1.PVCTarget{ClaimName: "backups"}}}}}
	if err := e.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	backups := func() []v1alpha1.Backup {
		var l v1alpha1.BackupList
		if err := e.Client.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{controller.LabelSchedule: "often"}); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	// The first backup runs and is not finished: the next periods are skipped.
	testenv.Eventually(t, 30*time.Second, "a skipped period while the first backup runs", func() error {
		for len(srec.Events) > 0 {
			if ev := <-srec.Events; strings.Contains(ev, "BackupSkipped") {
				return nil
			}
		}
		return fmt.Errorf("%d backups, no skip yet", len(backups()))
	})
	if n := len(backups()); n != 1 {
		t.Fatalf("%d backups while the first runs, want 1 (Forbid)", n)
	}

	playJobs(t, e, ns)
	// Deleted Backups are gone with their delete jobs (owned by them): the events
	// count the deletions.
	deleted := 0
	testenv.Eventually(t, 60*time.Second, "older backups pruned, with their data, after several periods", func() error {
		for len(rec.Events) > 0 {
			if strings.Contains(<-rec.Events, "BackupDataDeleted") {
				deleted++
			}
		}
		got := &v1alpha1.BackupSchedule{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "often"}, got); err != nil {
			return err
		}
		completed := 0
		for _, b := range backups() {
			if b.Status.Phase == v1alpha1.BackupCompleted && b.DeletionTimestamp == nil {
				completed++
			}
		}
		if deleted < 2 || completed > 2 || got.Status.LastSuccessfulBackup == "" {
			return fmt.Errorf("%d backups' data deleted, %d completed backups kept, last successful %q", deleted, completed, got.Status.LastSuccessfulBackup)
		}
		return nil
	})
}
