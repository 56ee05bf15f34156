package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

func pod(name, role string, ready bool) corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{workload.LabelRole: role}},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}}}
}

func TestPickSource(t *testing.T) {
	cases := []struct {
		name       string
		pods       []corev1.Pod
		hasPrimary bool
		want       v1alpha1.BackupSource
		wantPod    string
	}{
		{"a ready replica, the highest", []corev1.Pod{pod("db-0", "primary", true), pod("db-1", "replica", true), pod("db-2", "replica", true)}, true, "PreferReplica", "db-2"},
		{"an unready replica is skipped", []corev1.Pod{pod("db-0", "replica", true), pod("db-1", "primary", true), pod("db-2", "replica", false)}, true, "PreferReplica", "db-0"},
		{"no replica ready: the primary", []corev1.Pod{pod("db-0", "primary", true), pod("db-1", "replica", false)}, true, "PreferReplica", "db-0"},
		{"the primary on request", []corev1.Pod{pod("db-0", "replica", true), pod("db-1", "primary", true)}, true, "Primary", "db-1"},
		{"no roles: the lowest ready ordinal", []corev1.Pod{pod("bus-10", "", true), pod("bus-2", "", true), pod("bus-0", "", false)}, false, "PreferReplica", "bus-2"},
		{"nothing ready", []corev1.Pod{pod("db-0", "primary", false)}, true, "PreferReplica", ""},
	}
	for _, tc := range cases {
		got, err := pickSource(tc.pods, tc.hasPrimary, tc.want)
		if got.Name != tc.wantPod || (tc.wantPod == "") != (err != nil) {
			t.Errorf("%s: %s, %v; want %q", tc.name, got.Name, err, tc.wantPod)
		}
	}
}
