package cluster

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stowage/stowage/pkg/workload"
)

// member describes one pod in a rollout case: "new" or "old" revision, then flags:
// "!" not ready, "x" terminating. For example "old!" is a stale, unready member.
func rolloutPods(members ...string) []corev1.Pod {
	names := workload.Names{Cluster: "db"}
	var pods []corev1.Pod
	for i, m := range members {
		rev := "r1"
		if strings.HasPrefix(m, "new") {
			rev = "r2"
		}
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: names.Pod(i), Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			}},
		}
		if strings.Contains(m, "!") {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}
		if strings.Contains(m, "x") {
			now := metav1.Now()
			p.DeletionTimestamp = &now
		}
		pods = append(pods, p)
	}
	return pods
}

func TestNextRestart(t *testing.T) {
	cases := []struct {
		name      string
		pods      []corev1.Pod
		primary   string
		inSync    bool
		canSwitch bool
		members   int32 // the StatefulSet's replicas when not len(pods)
		want      restart
		waits     bool
	}{
		{name: "all updated", pods: rolloutPods("new", "new", "new"), primary: "db-0", inSync: true, canSwitch: true},
		{name: "highest replica first", pods: rolloutPods("old", "old", "old"), primary: "db-0", inSync: true, canSwitch: true,
			want: restart{member: "db-2"}},
		{name: "replicas first when the primary is the highest ordinal", pods: rolloutPods("old", "old", "old"), primary: "db-2", inSync: true, canSwitch: true,
			want: restart{member: "db-1"}},
		{name: "one at a time", pods: rolloutPods("old", "old", "newx"), primary: "db-0", inSync: true, canSwitch: true, waits: true},
		{name: "wait until the deleted member is recreated", pods: rolloutPods("old", "old"), members: 3, inSync: true, waits: true},
		{name: "wait for the restarted member", pods: rolloutPods("old", "old", "new!"), primary: "db-0", inSync: true, canSwitch: true, waits: true},
		{name: "wait for replicas to catch up", pods: rolloutPods("old", "old", "new"), primary: "db-0", inSync: false, canSwitch: true, waits: true},
		{name: "next replica once caught up", pods: rolloutPods("old", "old", "new"), primary: "db-0", inSync: true, canSwitch: true,
			want: restart{member: "db-1"}},
		{name: "switch over before the primary", pods: rolloutPods("old", "new", "new"), primary: "db-0", inSync: true, canSwitch: true,
			want: restart{vacate: "db-0"}},
		{name: "the old primary once it is a replica", pods: rolloutPods("old", "new", "new"), primary: "db-1", inSync: true, canSwitch: true,
			want: restart{member: "db-0"}},
		{name: "an unready stale replica goes first", pods: rolloutPods("old", "old!", "old"), primary: "db-0", inSync: false, canSwitch: true,
			want: restart{member: "db-1"}},
		{name: "an unready stale primary waits for failover", pods: rolloutPods("old!", "new", "new"), primary: "db-0", inSync: false, canSwitch: true, waits: true},
		{name: "a single member is restarted", pods: rolloutPods("old"), primary: "db-0", inSync: true, canSwitch: true,
			want: restart{member: "db-0"}},
		{name: "primary last without a data plane", pods: rolloutPods("old", "new", "new"), primary: "db-0", inSync: true,
			want: restart{member: "db-0"}},
		{name: "no primary: highest ordinal first", pods: rolloutPods("old", "old", "old"), inSync: true,
			want: restart{member: "db-2"}},
	}
	for _, tc := range cases {
		members := int32(len(tc.pods))
		if tc.members != 0 {
			members = tc.members
		}
		got := nextRestart(rolloutInput{pods: tc.pods, members: members, updateRevision: "r2", primary: tc.primary,
			inSync: tc.inSync, canSwitch: tc.canSwitch, names: workload.Names{Cluster: "db"}})
		if tc.waits {
			if got.member != "" || got.vacate != "" || got.waiting == "" {
				t.Errorf("%s: %+v, want to wait", tc.name, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestNewestReady(t *testing.T) {
	at := func(sec int64, ready bool) corev1.Pod {
		status := corev1.ConditionTrue
		if !ready {
			status = corev1.ConditionFalse
		}
		return corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Unix(sec, 0)},
		}}}
	}
	if got := newestReady(nil); !got.IsZero() {
		t.Errorf("no pods: %s", got)
	}
	// The newest ready member counts, rounded up to the next second; unready ones not.
	got := newestReady([]corev1.Pod{at(100, true), at(160, true), at(200, false)})
	if want := time.Unix(161, 0); !got.Equal(want) {
		t.Errorf("newestReady = %s, want %s", got, want)
	}
}
