package workload

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
)

func testBlueprint(mutate ...func(*Blueprint)) Blueprint {
	bp := Blueprint{
		Engine:    "redis",
		Name:      "cache",
		Namespace: "team",
		Owner:     metav1.OwnerReference{APIVersion: "stowage.dev/v1alpha1", Kind: "RedisCluster", Name: "cache", UID: "u1", Controller: ptr.To(true)},
		Workload: v1alpha1.WorkloadSpec{
			Replicas: 3,
			Storage:  v1alpha1.StorageSpec{StorageClassName: ptr.To("fast"), Size: resource.MustParse("2Gi")},
		},
		Image:      "redis:7",
		Config:     map[string]string{"redis.conf": "port 6379\n"},
		ConfigPath: "/etc/redis",
		DataPath:   "/data",
		UserID:     999,
		Container:  Container{Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: 6379}}},
		SecretName: "cache-credentials",
	}
	for _, m := range mutate {
		m(&bp)
	}
	return bp
}

func TestStatefulSet(t *testing.T) {
	cases := []struct {
		name  string
		bp    Blueprint
		check func(t *testing.T, sts *appsv1.StatefulSet)
	}{
		{"claim template from the storage spec", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			vct := sts.Spec.VolumeClaimTemplates
			if len(vct) != 1 || *vct[0].Spec.StorageClassName != "fast" || vct[0].Spec.Resources.Requests.Storage().String() != "2Gi" {
				t.Errorf("claim templates %+v", vct)
			}
			if sts.Spec.ServiceName != "cache-headless" || *sts.Spec.Replicas != 3 {
				t.Errorf("serviceName %q replicas %d", sts.Spec.ServiceName, *sts.Spec.Replicas)
			}
		}},
		{"retention defaults to Retain", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			p := sts.Spec.PersistentVolumeClaimRetentionPolicy
			if p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
				t.Errorf("retention %+v", p)
			}
		}},
		{"retention Delete is passed through", testBlueprint(func(bp *Blueprint) {
			bp.Workload.Storage.RetentionPolicy = v1alpha1.VolumeRetentionPolicy{WhenDeleted: v1alpha1.VolumeDelete, WhenScaled: v1alpha1.VolumeDelete}
		}), func(t *testing.T, sts *appsv1.StatefulSet) {
			p := sts.Spec.PersistentVolumeClaimRetentionPolicy
			if p.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				t.Errorf("retention %+v", p)
			}
		}},
		{"zero size means an emptyDir and no claim", testBlueprint(func(bp *Blueprint) { bp.Workload.Storage.Size = resource.MustParse("0") }), func(t *testing.T, sts *appsv1.StatefulSet) {
			if len(sts.Spec.VolumeClaimTemplates) != 0 {
				t.Errorf("claim templates %d, want none", len(sts.Spec.VolumeClaimTemplates))
			}
			if !hasVolume(sts, VolumeData, func(v corev1.Volume) bool { return v.EmptyDir != nil }) {
				t.Errorf("no emptyDir data volume")
			}
		}},
		{"preferred anti-affinity by default", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			a := sts.Spec.Template.Spec.Affinity.PodAntiAffinity
			if len(a.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || a.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != corev1.LabelHostname {
				t.Errorf("anti-affinity %+v", a)
			}
		}},
		{"required anti-affinity on request", testBlueprint(func(bp *Blueprint) {
			bp.Workload.Scheduling = v1alpha1.SchedulingSpec{AntiAffinity: v1alpha1.AntiAffinityRequired, TopologyKey: "topology.kubernetes.io/zone"}
		}), func(t *testing.T, sts *appsv1.StatefulSet) {
			a := sts.Spec.Template.Spec.Affinity.PodAntiAffinity
			if len(a.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || a.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "topology.kubernetes.io/zone" {
				t.Errorf("anti-affinity %+v", a)
			}
		}},
		{"no anti-affinity when none", testBlueprint(func(bp *Blueprint) { bp.Workload.Scheduling.AntiAffinity = v1alpha1.AntiAffinityNone }), func(t *testing.T, sts *appsv1.StatefulSet) {
			if sts.Spec.Template.Spec.Affinity != nil {
				t.Errorf("affinity %+v", sts.Spec.Template.Spec.Affinity)
			}
		}},
		{"scheduling pass-through", testBlueprint(func(bp *Blueprint) {
			bp.Workload.Scheduling.NodeSelector = map[string]string{"disk": "ssd"}
			bp.Workload.Scheduling.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
			bp.Workload.Scheduling.PriorityClassName = "databases"
		}), func(t *testing.T, sts *appsv1.StatefulSet) {
			p := sts.Spec.Template.Spec
			if p.NodeSelector["disk"] != "ssd" || len(p.Tolerations) != 1 || p.PriorityClassName != "databases" {
				t.Errorf("nodeSelector %v tolerations %v priority %q", p.NodeSelector, p.Tolerations, p.PriorityClassName)
			}
		}},
		{"non-root with the engine's user", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			sc := sts.Spec.Template.Spec.SecurityContext
			if !*sc.RunAsNonRoot || *sc.RunAsUser != 999 || *sc.FSGroup != 999 {
				t.Errorf("security context %+v", sc)
			}
			c := sts.Spec.Template.Spec.Containers[0].SecurityContext
			if *c.AllowPrivilegeEscalation || len(c.Capabilities.Drop) != 1 {
				t.Errorf("container security context %+v", c)
			}
		}},
		{"config hash on the pod template", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			if sts.Spec.Template.Annotations[AnnotationConfigHash] != ConfigHash(map[string]string{"redis.conf": "port 6379\n"}) {
				t.Errorf("annotations %v", sts.Spec.Template.Annotations)
			}
		}},
		{"owned by the cluster", testBlueprint(), func(t *testing.T, sts *appsv1.StatefulSet) {
			if ref := metav1.GetControllerOf(sts); ref == nil || ref.UID != "u1" {
				t.Errorf("owner references %v", sts.OwnerReferences)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, StatefulSet(tc.bp)) })
	}
}

func hasVolume(sts *appsv1.StatefulSet, name string, ok func(corev1.Volume) bool) bool {
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == name && ok(v) {
			return true
		}
	}
	return false
}

func TestServices(t *testing.T) {
	bp := testBlueprint(func(bp *Blueprint) { bp.ClientPorts = []corev1.ServicePort{{Name: "redis", Port: 6379}} })
	h := HeadlessService(bp)
	if h.Spec.ClusterIP != corev1.ClusterIPNone || !h.Spec.PublishNotReadyAddresses || len(h.Spec.Ports) != 1 {
		t.Errorf("headless %+v", h.Spec)
	}
	cases := []struct {
		hasPrimary bool
		want       map[string]string // name -> role selected ("" for none)
	}{
		{false, map[string]string{"cache": ""}},
		{true, map[string]string{"cache-primary": RolePrimary, "cache-replicas": RoleReplica}},
	}
	for _, tc := range cases {
		bp.HasPrimary = tc.hasPrimary
		got := ClientServices(bp)
		if len(got) != len(tc.want) {
			t.Fatalf("hasPrimary=%v: %d Services, want %d", tc.hasPrimary, len(got), len(tc.want))
		}
		for _, svc := range got {
			role, ok := tc.want[svc.Name]
			if !ok || svc.Spec.Selector[LabelRole] != role || svc.Spec.Selector[LabelInstance] != "cache" {
				t.Errorf("hasPrimary=%v: unexpected Service %s selecting %v", tc.hasPrimary, svc.Name, svc.Spec.Selector)
			}
		}
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	pdb := PodDisruptionBudget(testBlueprint())
	if pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels[LabelInstance] != "cache" {
		t.Errorf("pdb %+v", pdb.Spec)
	}
}

func TestConfigHashIgnoresMapOrderButNotContent(t *testing.T) {
	a := ConfigHash(map[string]string{"a": "1", "b": "2"})
	if b := ConfigHash(map[string]string{"b": "2", "a": "1"}); a != b {
		t.Errorf("order changed the hash: %s vs %s", a, b)
	}
	if c := ConfigHash(map[string]string{"a": "12", "b": ""}); a == c {
		t.Errorf("moving bytes between files kept the hash")
	}
}

func TestCredentialsSecret(t *testing.T) {
	bp := testBlueprint(func(bp *Blueprint) { bp.CredentialKeys = []string{"password", "other"} })
	calls := 0
	gen := func() (string, error) { calls++; return strings.Repeat("x", 32), nil }
	s, err := CredentialsSecret(bp, map[string][]byte{"password": []byte("kept")}, false, gen)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["password"]) != "kept" || len(s.Data["other"]) != 32 || calls != 1 {
		t.Errorf("data %v after %d generations: existing keys must be kept, missing ones generated", s.Data, calls)
	}
	if len(s.OwnerReferences) != 1 {
		t.Errorf("owner references %v", s.OwnerReferences)
	}
	kept, _ := CredentialsSecret(bp, nil, true, gen)
	if len(kept.OwnerReferences) != 0 {
		t.Errorf("a Secret kept with the data must not be owned: %v", kept.OwnerReferences)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 32 || strings.Trim(p, passwordAlphabet) != "" || seen[p] {
			t.Fatalf("password %q: want 32 fresh characters from the alphabet", p)
		}
		seen[p] = true
	}
}

func TestOrdinal(t *testing.T) {
	n := Names{Cluster: "db"}
	cases := []struct {
		pod  string
		want int32
		ok   bool
	}{
		{"db-0", 0, true}, {"db-12", 12, true}, {"db-", 0, false}, {"db-x", 0, false},
		{"db-01", 0, false}, {"db-1-2", 0, false}, {"other-1", 0, false}, {"", 0, false}, {"db--1", 0, false},
	}
	for _, tc := range cases {
		if got, ok := n.Ordinal(tc.pod); got != tc.want || ok != tc.ok {
			t.Errorf("Ordinal(%q) = %d, %v; want %d, %v", tc.pod, got, ok, tc.want, tc.ok)
		}
	}
}
