package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/backup"
)

// +kubebuilder:rbac:groups=stowage.dev,resources=backupschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=stowage.dev,resources=backupschedules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=stowage.dev,resources=backups,verbs=create

// ScheduleReconciler takes a Backup when a BackupSchedule is due, as its concurrency
// policy allows, and deletes the completed Backups its retention no longer keeps
// (their data goes with them: see the Backup controller's finalizer).
type ScheduleReconciler struct {
	client.Client
	Recorder record.EventRecorder
	// Now is the clock (tests set it).
	Now func() time.Time
}

func (r *ScheduleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.BackupSchedule{}).Owns(&v1alpha1.Backup{}).Named("backupschedule").Complete(r)
}

func (r *ScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s := &v1alpha1.BackupSchedule{}
	if err := r.Get(ctx, req.NamespacedName, s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	var list v1alpha1.BackupList
	if err := r.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels{LabelSchedule: s.Name}); err != nil {
		return ctrl.Result{}, err
	}
	var active []string
	var kept []backup.Kept
	lastSuccessful, lastSuccessfulAt := s.Status.LastSuccessfulBackup, time.Time{}
	for _, b := range list.Items {
		switch {
		case b.DeletionTimestamp != nil:
		case !finished(b.Status.Phase):
			active = append(active, b.Name)
		case b.Status.Phase == v1alpha1.BackupCompleted && b.Status.CompletedAt != nil:
			kept = append(kept, backup.Kept{Name: b.Name, CompletedAt: b.Status.CompletedAt.Time})
			if b.Status.CompletedAt.After(lastSuccessfulAt) {
				lastSuccessful, lastSuccessfulAt = b.Name, b.Status.CompletedAt.Time
			}
		}
	}
	slices.Sort(active)

	last := s.CreationTimestamp.Time
	if s.Status.LastScheduleTime != nil {
		last = s.Status.LastScheduleTime.Time
	}
	act, err := decideSchedule(s.Spec, last, now, len(active))
	if err != nil {
		return ctrl.Result{}, r.setCondition(ctx, s, metav1.ConditionFalse, "InvalidSchedule", err.Error(), nil, active, lastSuccessful)
	}
	var scheduled *metav1.Time
	switch {
	case act.run:
		if act.replace {
			for _, name := range active {
				b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace}}
				if err := r.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
					return ctrl.Result{}, err
				}
			}
			active = nil
		}
		name := scheduledName(s.Name, act.at)
		if err := r.create(ctx, s, name); err != nil {
			return ctrl.Result{}, err
		}
		active = append(active, name)
		scheduled = &metav1.Time{Time: act.at}
	case act.skipped:
		r.Recorder.Eventf(s, corev1.EventTypeWarning, "BackupSkipped", "A backup was due at %s but %v still runs (concurrencyPolicy Forbid)",
			act.at.UTC().Format(time.RFC3339), active)
		scheduled = &metav1.Time{Time: act.at}
	}
	if err := r.prune(ctx, s, kept, now); err != nil {
		return ctrl.Result{}, err
	}
	msg := fmt.Sprintf("next backup at %s", act.next.UTC().Format(time.RFC3339))
	if s.Spec.Suspend {
		msg = "suspended"
	}
	if err := r.setCondition(ctx, s, metav1.ConditionTrue, "Scheduled", msg, scheduled, active, lastSuccessful); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: act.next.Sub(now) + time.Second}, nil
}

func (r *ScheduleReconciler) create(ctx context.Context, s *v1alpha1.BackupSchedule, name string) error {
	b := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: map[string]string{LabelSchedule: s.Name},
			OwnerReferences: []metav1.OwnerReference{ownerRef(s, "BackupSchedule")}},
		Spec: v1alpha1.BackupSpec{BackupTemplate: s.Spec.Template},
	}
	if err := r.Create(ctx, b); err != nil {
		if client.IgnoreAlreadyExists(err) == nil {
			return nil
		}
		return fmt.Errorf("creating Backup %s: %w", name, err)
	}
	r.Recorder.Eventf(s, corev1.EventTypeNormal, "BackupScheduled", "Created Backup %s", name)
	return nil
}

// prune deletes the completed Backups the retention drops.
func (r *ScheduleReconciler) prune(ctx context.Context, s *v1alpha1.BackupSchedule, kept []backup.Kept, now time.Time) error {
	ret := s.Spec.Retention
	if ret == nil {
		return nil
	}
	policy := backup.Retention{}
	if ret.KeepLast != nil {
		policy.KeepLast = int(*ret.KeepLast)
	}
	if ret.MaxAge != nil {
		policy.MaxAge = ret.MaxAge.Duration
	}
	for _, name := range policy.Expired(kept, now) {
		b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace}}
		if err := r.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.Recorder.Eventf(s, corev1.EventTypeNormal, "BackupExpired", "Deleted Backup %s: the retention keeps it no longer", name)
	}
	return nil
}

func (r *ScheduleReconciler) setCondition(ctx context.Context, s *v1alpha1.BackupSchedule, status metav1.ConditionStatus, reason, msg string,
	scheduled *metav1.Time, active []string, lastSuccessful string) error {
	patch := client.MergeFrom(s.DeepCopy())
	if scheduled != nil {
		s.Status.LastScheduleTime = scheduled
	}
	s.Status.Active, s.Status.LastSuccessfulBackup = active, lastSuccessful
	meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: "Ready", Status: status, Reason: reason, Message: msg,
		ObservedGeneration: s.Generation})
	return r.Status().Patch(ctx, s, patch)
}
