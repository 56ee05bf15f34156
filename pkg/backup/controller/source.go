package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

// errNoMember: no member can serve the job now (none ready); the controller waits.
var errNoMember = errors.New("no member is ready")

// pickSource chooses the member a backup reads. With a primary role, a ready replica
// is preferred (the primary is not loaded) unless the primary is asked for; the
// primary serves when no replica is ready. Without roles, the lowest ready ordinal.
func pickSource(pods []corev1.Pod, hasPrimary bool, want v1alpha1.BackupSource) (corev1.Pod, error) {
	ready := readyByName(pods)
	if len(ready) == 0 {
		return corev1.Pod{}, errNoMember
	}
	if !hasPrimary {
		return ready[0], nil
	}
	var primary, replicas []corev1.Pod
	for _, p := range ready {
		switch p.Labels[workload.LabelRole] {
		case workload.RolePrimary:
			primary = append(primary, p)
		case workload.RoleReplica:
			replicas = append(replicas, p)
		}
	}
	switch {
	case want != v1alpha1.BackupSource("Primary") && len(replicas) > 0:
		return replicas[len(replicas)-1], nil // the highest ordinal: the last to be promoted
	case len(primary) > 0:
		return primary[0], nil
	default:
		return corev1.Pod{}, fmt.Errorf("%w: no member is labelled primary or replica yet", errNoMember)
	}
}

// pickPrimary chooses the member a restore writes: the primary, or the lowest ready
// ordinal of an engine without one.
func pickPrimary(pods []corev1.Pod, hasPrimary bool) (corev1.Pod, error) {
	ready := readyByName(pods)
	for _, p := range ready {
		if !hasPrimary || p.Labels[workload.LabelRole] == workload.RolePrimary {
			return p, nil
		}
	}
	return corev1.Pod{}, errNoMember
}

func readyByName(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && isReady(&p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int {
		if len(a.Name) != len(b.Name) { // ordinal 10 after 9
			return len(a.Name) - len(b.Name)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
