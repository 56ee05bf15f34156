package controller

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/backup"
)

// +kubebuilder:rbac:groups=stowage.dev,resources=restores,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=stowage.dev,resources=restores/status,verbs=get;update;patch

// RestoreReconciler turns each Restore into one Job that verifies the backup and loads
// it into the cluster's primary (any member of an engine without one). While it runs
// the cluster carries AnnotationRestoring, so its data-plane manager holds still; the
// annotation goes when the Job ends, and the manager then brings the other members to
// the restored data (a full resync, or a seed).
type RestoreReconciler struct{ Jobs }

func (r *RestoreReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Restore{}).Owns(&batchv1.Job{}).Named("restore").Complete(r)
}

func (r *RestoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rs := &v1alpha1.Restore{}
	if err := r.Get(ctx, req.NamespacedName, rs); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return r.once(ctx, rs.Namespace, jobName("restore", rs.Name), finished(rs.Status.Phase),
		func() (ctrl.Result, error) { return r.start(ctx, rs) },
		func(job *batchv1.Job) error {
			// The cluster holds still for as long as the Job runs.
			if err := r.hold(ctx, rs, true); err != nil {
				return err
			}
			return r.running(ctx, rs, job)
		},
		func(out jobOutcome) error {
			if err := r.hold(ctx, rs, false); err != nil {
				return err
			}
			return r.finish(ctx, rs, out)
		})
}

// source is where the backup to restore is: its target and its directory there.
func (r *RestoreReconciler) source(ctx context.Context, rs *v1alpha1.Restore) (v1alpha1.BackupTarget, string, string, error) {
	if loc := rs.Spec.Source.Location; loc != nil {
		return loc.Target, loc.Path, "", nil
	}
	b := &v1alpha1.Backup{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: rs.Spec.Source.BackupName}, b); err != nil {
		if apierrors.IsNotFound(err) {
			return v1alpha1.BackupTarget{}, "", fmt.Sprintf("Backup %s does not exist", rs.Spec.Source.BackupName), nil
		}
		return v1alpha1.BackupTarget{}, "", "", err
	}
	if b.Status.Phase != v1alpha1.BackupCompleted {
		return v1alpha1.BackupTarget{}, "", fmt.Sprintf("Backup %s is %s, not Completed", b.Name, orNone(string(b.Status.Phase))), nil
	}
	if b.Spec.Cluster.Kind != rs.Spec.Cluster.Kind {
		return v1alpha1.BackupTarget{}, "", "", fmt.Errorf("Backup %s is of a %s; the restore is into a %s", b.Name, b.Spec.Cluster.Kind, rs.Spec.Cluster.Kind)
	}
	return b.Spec.Target, b.Status.Location, "", nil
}

func (r *RestoreReconciler) start(ctx context.Context, rs *v1alpha1.Restore) (ctrl.Result, error) {
	target, location, why, err := r.source(ctx, rs)
	if err != nil {
		return ctrl.Result{}, r.fail(ctx, rs, err.Error())
	}
	if why == "" {
		var m member
		m, why, err = resolveMember(ctx, r.Client, r.Profiles, rs.Namespace, rs.Spec.Cluster, pickPrimary)
		if err != nil {
			return ctrl.Result{}, err
		}
		if why == "" {
			return ctrl.Result{}, r.run(ctx, rs, m, target, location)
		}
	}
	patch := client.MergeFrom(rs.DeepCopy())
	rs.Status.Phase = v1alpha1.BackupPending
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Waiting",
		Message: why, ObservedGeneration: rs.Generation})
	return ctrl.Result{RequeueAfter: waitRetry}, r.Status().Patch(ctx, rs, patch)
}

func (r *RestoreReconciler) run(ctx context.Context, rs *v1alpha1.Restore, m member, target v1alpha1.BackupTarget, location string) error {
	if err := ensureJobAccount(ctx, r.Client, rs.Namespace); err != nil {
		return fmt.Errorf("the jobs' service account: %w", err)
	}
	if err := r.hold(ctx, rs, true); err != nil {
		return err
	}
	spec := backup.JobSpec{Kind: "restore", Engine: m.bp.Engine, Cluster: rs.Namespace + "/" + rs.Spec.Cluster.Name,
		Member: m.member, MemberAddr: m.addr, Options: m.options, Location: location, Force: rs.Spec.Force}
	job := buildJob(jobInput{Name: jobName("restore", rs.Name), Namespace: rs.Namespace, Owner: ownerRef(rs, "Restore"),
		Image: r.Image, ServiceAccount: JobServiceAccount, Spec: spec, Target: target, Password: m.password, ObjectName: rs.Name})
	if err := r.Create(ctx, job); apierrors.IsAlreadyExists(err) {
		return nil // created and announced by an earlier pass, as for a Backup
	} else if err != nil {
		return fmt.Errorf("creating the restore job: %w", err)
	}
	r.Recorder.Eventf(rs, corev1.EventTypeNormal, "RestoreStarted", "Restoring %s into %s %s through %s", location, rs.Spec.Cluster.Kind, rs.Spec.Cluster.Name, m.member)
	return r.running(ctx, rs, job)
}

// running records the Job's start as the Restore's, from the Job, as for a Backup.
func (r *RestoreReconciler) running(ctx context.Context, rs *v1alpha1.Restore, job *batchv1.Job) error {
	if rs.Status.Phase == v1alpha1.BackupRunning {
		return nil
	}
	patch := client.MergeFrom(rs.DeepCopy())
	rs.Status.Phase, rs.Status.StartedAt = v1alpha1.BackupRunning, job.CreationTimestamp.DeepCopy()
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Running",
		Message: "the restore job verifies the backup, then loads it", ObservedGeneration: rs.Generation})
	return r.Status().Patch(ctx, rs, patch)
}

// hold sets (or removes) the cluster's AnnotationRestoring.
func (r *RestoreReconciler) hold(ctx context.Context, rs *v1alpha1.Restore, on bool) error {
	profile, ok := r.Profiles[rs.Spec.Cluster.Kind]
	if !ok {
		return nil
	}
	c := profile.Engine.NewCluster()
	if err := r.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: rs.Spec.Cluster.Name}, c); err != nil {
		return client.IgnoreNotFound(err)
	}
	a := c.GetAnnotations()
	if (a[v1alpha1.AnnotationRestoring] == rs.Name) == on {
		return nil
	}
	patch := client.MergeFrom(c.DeepCopyObject().(client.Object))
	if a == nil {
		a = map[string]string{}
	}
	if on {
		a[v1alpha1.AnnotationRestoring] = rs.Name
	} else {
		delete(a, v1alpha1.AnnotationRestoring)
	}
	c.SetAnnotations(a)
	return r.Patch(ctx, c, patch)
}

func (r *RestoreReconciler) finish(ctx context.Context, rs *v1alpha1.Restore, out jobOutcome) error {
	if out.failed {
		return r.fail(ctx, rs, out.result.Error)
	}
	patch := client.MergeFrom(rs.DeepCopy())
	now := metav1.Now()
	rs.Status.Phase, rs.Status.CompletedAt, rs.Status.Bytes = v1alpha1.BackupCompleted, &now, out.result.Bytes
	rs.Status.SourceInstance = out.result.Source
	if rs.Status.StartedAt != nil {
		rs.Status.Duration = &metav1.Duration{Duration: now.Sub(rs.Status.StartedAt.Time).Round(time.Second)}
	}
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionTrue, Reason: "Completed",
		Message: fmt.Sprintf("restored %d bytes, at %s", out.result.Bytes, out.result.Position), ObservedGeneration: rs.Generation})
	r.Recorder.Eventf(rs, corev1.EventTypeNormal, "RestoreCompleted", "Restored %s %s from a backup of %s at %s",
		rs.Spec.Cluster.Kind, rs.Spec.Cluster.Name, out.result.Source, out.result.Position)
	return r.Status().Patch(ctx, rs, patch)
}

func (r *RestoreReconciler) fail(ctx context.Context, rs *v1alpha1.Restore, why string) error {
	patch := client.MergeFrom(rs.DeepCopy())
	now := metav1.Now()
	rs.Status.Phase, rs.Status.CompletedAt, rs.Status.Error = v1alpha1.BackupFailed, &now, why
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: "Complete", Status: metav1.ConditionFalse, Reason: "Failed",
		Message: why, ObservedGeneration: rs.Generation})
	r.Recorder.Eventf(rs, corev1.EventTypeWarning, "RestoreFailed", "Restore into %s %s failed: %s", rs.Spec.Cluster.Kind, rs.Spec.Cluster.Name, why)
	return r.Status().Patch(ctx, rs, patch)
}

func orNone(s string) string {
	if s == "" {
		return "not started"
	}
	return s
}
