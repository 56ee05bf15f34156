package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/supervise"
	"github.com/stowage/stowage/pkg/workload"
)

// waitRetry is how soon a backup that cannot start yet (no cluster, no ready member)
// is looked at again.
const waitRetry = 10 * time.Second

// +kubebuilder:rbac:groups=stowage.dev,resources=backups,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=stowage.dev,resources=backups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch

// Jobs is what the Backup and Restore controllers share: the client, the recorder,
// the engines' profiles and the image their Jobs run.
type Jobs struct {
	client.Client
	Recorder record.EventRecorder
	// Profiles by cluster kind.
	Profiles map[string]Profile
	// Image of the jobs: the operator's own.
	Image string
}

// once runs an object's single Job: start creates it when there is none, running
// records a Job that runs (again, from the Job: the pass that created it may not have
// recorded it), finish records its end; an object already finished is left alone.
func (j Jobs) once(ctx context.Context, ns, job string, done bool, start func() (ctrl.Result, error),
	running func(*batchv1.Job) error, finish func(jobOutcome) error) (ctrl.Result, error) {
	if done {
		return ctrl.Result{}, nil
	}
	existing := &batchv1.Job{}
	err := j.Get(ctx, client.ObjectKey{Namespace: ns, Name: job}, existing)
	switch {
	case apierrors.IsNotFound(err):
		return start()
	case err != nil:
		return ctrl.Result{}, err
	}
	out, err := outcomeOf(ctx, j.Client, existing)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !out.done {
		return ctrl.Result{}, running(existing)
	}
	return ctrl.Result{}, finish(out)
}

// BackupReconciler turns each Backup into one Job and the Job's outcome into the
// Backup's status. A finished Backup is never run again.
type BackupReconciler struct{ Jobs }

// SetupWithManager registers the Backup controller.
func (r *BackupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Backup{}).Owns(&batchv1.Job{}).Named("backup").Complete(r)
}

func (r *BackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &v1alpha1.Backup{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.deleteData(ctx, b)
	}
	return r.once(ctx, b.Namespace, jobName("backup", b.Name), finished(b.Status.Phase),
		func() (ctrl.Result, error) { return r.start(ctx, b) },
		func(job *batchv1.Job) error { return r.running(ctx, b, job) },
		func(out jobOutcome) error { return r.finish(ctx, b, out) })
}

// start picks the member, makes sure the jobs' account exists and creates the Job.
func (r *BackupReconciler) start(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	target, why, err := resolveMember(ctx, r.Client, r.Profiles, b.Namespace, b.Spec.Cluster, func(pods []corev1.Pod, hasPrimary bool) (corev1.Pod, error) {
		return pickSource(pods, hasPrimary, b.Spec.Source)
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	if why != "" {
		return ctrl.Result{RequeueAfter: waitRetry}, r.setPending(ctx, b, why)
	}
	if err := ensureJobAccount(ctx, r.Client, b.Namespace); err != nil {
		return ctrl.Result{}, fmt.Errorf("the jobs' service account: %w", err)
	}
	// Deleting the Backup deletes its data: the finalizer is on before any is written.
	if !controllerutil.ContainsFinalizer(b, FinalizerData) {
		patch := client.MergeFrom(b.DeepCopy())
		controllerutil.AddFinalizer(b, FinalizerData)
		if err := r.Patch(ctx, b, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	location := backup.Location(b.Namespace, b.Spec.Cluster.Name, b.Name)
	spec := backup.JobSpec{Kind: "backup", Engine: target.bp.Engine, Cluster: b.Namespace + "/" + b.Spec.Cluster.Name,
		Member: target.member, MemberAddr: target.addr, Options: target.options, Location: location,
		Compression: backup.Compression(b.Spec.Compression)}
	job := buildJob(jobInput{Name: jobName("backup", b.Name), Namespace: b.Namespace, Owner: ownerRef(b, "Backup"),
		Image: r.Image, ServiceAccount: JobServiceAccount, Spec: spec, Target: b.Spec.Target,
		Password: target.password, ObjectName: b.Name})
	if err := r.Create(ctx, job); apierrors.IsAlreadyExists(err) {
		// An earlier pass created it and announced it; this one read a cache that had not
		// seen the Job yet. The Job's own event brings a pass that sees it.
		return ctrl.Result{}, nil
	} else if err != nil {
		return ctrl.Result{}, fmt.Errorf("creating the backup job: %w", err)
	}
	r.Recorder.Eventf(b, corev1.EventTypeNormal, "BackupStarted", "Backing up %s %s from %s", b.Spec.Cluster.Kind, b.Spec.Cluster.Name, target.member)
	return ctrl.Result{}, r.running(ctx, b, job)
}

// running records the Job's start as the Backup's. Everything comes from the Job, so
// whichever pass records it records the same.
func (r *BackupReconciler) running(ctx context.Context, b *v1alpha1.Backup, job *batchv1.Job) error {
	if b.Status.Phase == v1alpha1.BackupRunning {
		return nil
	}
	spec, err := jobSpecOf(job)
	if err != nil {
		return err
	}
	patch := client.MergeFrom(b.DeepCopy())
	b.Status.Phase, b.Status.StartedAt = v1alpha1.BackupRunning, job.CreationTimestamp.DeepCopy()
	b.Status.SourceInstance, b.Status.Location = spec.Member, spec.Location
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Running",
		Message: "the backup job runs", ObservedGeneration: b.Generation})
	return r.Status().Patch(ctx, b, patch)
}

func (r *BackupReconciler) finish(ctx context.Context, b *v1alpha1.Backup, out jobOutcome) error {
	patch := client.MergeFrom(b.DeepCopy())
	res := out.result
	now := metav1.Now()
	b.Status.CompletedAt = &now
	if b.Status.StartedAt != nil {
		b.Status.Duration = &metav1.Duration{Duration: now.Sub(b.Status.StartedAt.Time).Round(time.Second)}
	}
	if res.Bytes > 0 {
		b.Status.Bytes = res.Bytes
	}
	if res.Position != "" {
		b.Status.Position = res.Position
	}
	if out.failed {
		b.Status.Phase, b.Status.Error = v1alpha1.BackupFailed, res.Error
		meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Failed",
			Message: res.Error, ObservedGeneration: b.Generation})
		r.Recorder.Eventf(b, corev1.EventTypeWarning, "BackupFailed", "Backup of %s %s failed: %s", b.Spec.Cluster.Kind, b.Spec.Cluster.Name, res.Error)
	} else {
		b.Status.Phase = v1alpha1.BackupCompleted
		meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionTrue, Reason: "Completed",
			Message: fmt.Sprintf("%d bytes at %s", res.Bytes, res.Position), ObservedGeneration: b.Generation})
		r.Recorder.Eventf(b, corev1.EventTypeNormal, "BackupCompleted", "Backed up %s %s: %d bytes stored at %s, consistent at %s",
			b.Spec.Cluster.Kind, b.Spec.Cluster.Name, res.Bytes, b.Status.Location, res.Position)
	}
	return r.Status().Patch(ctx, b, patch)
}

func (r *BackupReconciler) setPending(ctx context.Context, b *v1alpha1.Backup, why string) error {
	patch := client.MergeFrom(b.DeepCopy())
	b.Status.Phase = v1alpha1.BackupPending
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Waiting",
		Message: why, ObservedGeneration: b.Generation})
	return r.Status().Patch(ctx, b, patch)
}

// FinalizerData keeps a Backup until its data is deleted from the target.
const FinalizerData = "stowage.dev/backup-data"

// deleteData runs a job that deletes the backup's files, then lets the Backup go. A
// job that fails leaves the files behind, with a Warning naming them: a Backup whose
// target is gone must still be deletable.
func (r *BackupReconciler) deleteData(ctx context.Context, b *v1alpha1.Backup) error {
	if !controllerutil.ContainsFinalizer(b, FinalizerData) {
		return nil
	}
	release := func() error {
		patch := client.MergeFrom(b.DeepCopy())
		controllerutil.RemoveFinalizer(b, FinalizerData)
		return client.IgnoreNotFound(r.Patch(ctx, b, patch))
	}
	if b.Status.Location == "" {
		return release()
	}
	// The backup job must not write while its files are deleted.
	running := &batchv1.Job{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: jobName("backup", b.Name)}, running); err == nil {
		if out, err := outcomeOf(ctx, r.Client, running); err != nil || !out.done {
			return err
		}
	}
	job := &batchv1.Job{}
	err := r.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: jobName("delete", b.Name)}, job)
	if apierrors.IsNotFound(err) {
		spec := backup.JobSpec{Kind: "delete", Engine: engineOf(r.Profiles, b.Spec.Cluster.Kind), Cluster: b.Namespace + "/" + b.Spec.Cluster.Name,
			Location: b.Status.Location}
		job = buildJob(jobInput{Name: jobName("delete", b.Name), Namespace: b.Namespace, Owner: ownerRef(b, "Backup"),
			Image: r.Image, ServiceAccount: JobServiceAccount, Spec: spec, Target: b.Spec.Target, ObjectName: b.Name})
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the job that deletes the backup's data: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	out, err := outcomeOf(ctx, r.Client, job)
	if err != nil || !out.done {
		return err
	}
	if out.failed {
		r.Recorder.Eventf(b, corev1.EventTypeWarning, "BackupDataNotDeleted", "The files of %s were not deleted: %s", b.Status.Location, out.result.Error)
	} else {
		r.Recorder.Eventf(b, corev1.EventTypeNormal, "BackupDataDeleted", "Deleted %s from the target", b.Status.Location)
	}
	return release()
}

func engineOf(profiles map[string]Profile, kind string) string {
	if p, ok := profiles[kind]; ok {
		return p.Engine.Name()
	}
	return ""
}

// member is the member a job works with, and how it reaches it.
type member struct {
	bp       workload.Blueprint
	member   string
	addr     string
	password corev1.SecretKeySelector
	options  map[string]string
}

// resolveMember finds the cluster, its members and the one pick chooses. A reason to
// wait ("" when there is none) is not an error.
func resolveMember(ctx context.Context, c client.Client, profiles map[string]Profile, ns string, ref v1alpha1.ClusterReference,
	pick func([]corev1.Pod, bool) (corev1.Pod, error)) (member, string, error) {
	profile, ok := profiles[ref.Kind]
	if !ok {
		return member{}, fmt.Sprintf("no engine runs %s", ref.Kind), nil
	}
	cl := profile.Engine.NewCluster()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, cl); err != nil {
		if apierrors.IsNotFound(err) {
			return member{}, fmt.Sprintf("%s %s does not exist", ref.Kind, ref.Name), nil
		}
		return member{}, "", err
	}
	bp, err := profile.Engine.Blueprint(cl)
	if err != nil {
		return member{}, "", err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(workload.SelectorLabels(bp.Engine, bp.Name))); err != nil {
		return member{}, "", err
	}
	pod, err := pick(pods.Items, bp.HasPrimary)
	if errors.Is(err, errNoMember) {
		return member{}, fmt.Sprintf("%s %s: %v", ref.Kind, ref.Name, err), nil
	}
	if err != nil {
		return member{}, "", err
	}
	port := 0
	if len(bp.ClientPorts) > 0 {
		port = int(bp.ClientPorts[0].Port)
	}
	m := member{bp: bp, member: pod.Name, addr: supervise.PodDNS(port)(ns, bp.Names().HeadlessService(), pod.Name),
		password: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: bp.SecretName}, Key: profile.PasswordKey}}
	if profile.Options != nil {
		m.options = profile.Options(cl)
	}
	return m, "", nil
}

func finished(p v1alpha1.BackupPhase) bool {
	return p == v1alpha1.BackupCompleted || p == v1alpha1.BackupFailed
}

func jobName(kind, name string) string {
	n := kind + "-" + name
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

func ownerRef(o client.Object, kind string) metav1.OwnerReference {
	return *metav1.NewControllerRef(o, v1alpha1.GroupVersion.WithKind(kind))
}
