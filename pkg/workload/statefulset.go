package workload

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Volume names inside every member's pod.
const (
	VolumeData   = "data"
	VolumeConfig = "config"
	// VolumeRun is scratch space for files an engine writes at start-up, such as a
	// credentials include rendered from environment variables.
	VolumeRun = "run"
	RunPath   = "/run/stowage"
)

// StatefulSet builds the members' StatefulSet. OrderedReady pod management creates a
// new cluster's members one after the other, each once the previous is ready;
// ParallelStart engines start them together.
func StatefulSet(bp Blueprint) *appsv1.StatefulSet {
	names := bp.Names()
	policy := appsv1.OrderedReadyPodManagement
	if bp.ParallelStart {
		policy = appsv1.ParallelPodManagement
	}
	sts := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: bp.objectMeta(names.StatefulSet()),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(bp.Workload.Replicas),
			ServiceName:         names.HeadlessService(),
			PodManagementPolicy: policy,
			Selector:            &metav1.LabelSelector{MatchLabels: SelectorLabels(bp.Engine, bp.Name)},
			// The operator restarts members itself, replicas first and the primary
			// last after a switchover, which no StatefulSet strategy can express.
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: pvcRetention(bp.Workload.Storage.RetentionPolicy.WhenDeleted),
				WhenScaled:  pvcRetention(bp.Workload.Storage.RetentionPolicy.WhenScaled),
			},
			Template: podTemplate(bp),
		},
	}
	if bp.HasVolume() {
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{VolumeClaimTemplate(bp)}
	}
	return sts
}

// VolumeClaimTemplate is the claim every member gets.
func VolumeClaimTemplate(bp Blueprint) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: VolumeData, Labels: CommonLabels(bp.Engine, bp.Name)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: bp.Workload.Storage.StorageClassName,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: bp.Workload.Storage.Size},
			},
		},
	}
}

func pvcRetention(r v1alpha1.VolumeRetention) appsv1.PersistentVolumeClaimRetentionPolicyType {
	if r == v1alpha1.VolumeDelete {
		return appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	}
	return appsv1.RetainPersistentVolumeClaimRetentionPolicyType
}

func podTemplate(bp Blueprint) corev1.PodTemplateSpec {
	w := bp.Workload
	labels := CommonLabels(bp.Engine, bp.Name)
	labels[LabelComponent] = "member"
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      labels,
			Annotations: map[string]string{AnnotationConfigHash: ConfigHash(bp.restartConfig())},
		},
		Spec: corev1.PodSpec{
			Containers:         []corev1.Container{engineContainer(bp)},
			Volumes:            podVolumes(bp),
			SecurityContext:    podSecurityContext(bp.UserID),
			Affinity:           affinity(bp),
			NodeSelector:       w.Scheduling.NodeSelector,
			Tolerations:        w.Scheduling.Tolerations,
			PriorityClassName:  w.Scheduling.PriorityClassName,
			EnableServiceLinks: ptr.To(false),
			// Engines flush and hand over leadership on SIGTERM; give them time.
			TerminationGracePeriodSeconds: ptr.To[int64](60),
		},
	}
}

func engineContainer(bp Blueprint) corev1.Container {
	c := bp.Container
	env := append([]corev1.EnvVar{
		fieldEnv("POD_NAME", "metadata.name"),
		fieldEnv("POD_NAMESPACE", "metadata.namespace"),
		{Name: "HEADLESS_SERVICE", Value: bp.Names().HeadlessService()},
	}, c.Env...)
	mounts := []corev1.VolumeMount{
		{Name: VolumeData, MountPath: bp.DataPath},
		{Name: VolumeConfig, MountPath: bp.ConfigPath, ReadOnly: true},
		{Name: VolumeRun, MountPath: RunPath},
	}
	var lifecycle *corev1.Lifecycle
	if c.PreStop != nil {
		lifecycle = &corev1.Lifecycle{PreStop: c.PreStop}
	}
	return corev1.Container{
		Lifecycle:       lifecycle,
		Name:            bp.Engine,
		Image:           bp.Image,
		ImagePullPolicy: bp.Workload.ImagePullPolicy,
		Command:         c.Command,
		Args:            c.Args,
		Env:             env,
		Ports:           c.Ports,
		Resources:       bp.Workload.Resources,
		VolumeMounts:    mounts,
		StartupProbe:    c.StartupProbe,
		LivenessProbe:   c.LivenessProbe,
		ReadinessProbe:  c.ReadinessProbe,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
	}}
}

func podVolumes(bp Blueprint) []corev1.Volume {
	vols := []corev1.Volume{
		{Name: VolumeConfig, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: bp.Names().ConfigMap()},
		}}},
		{Name: VolumeRun, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
	}
	if !bp.HasVolume() {
		vols = append(vols, corev1.Volume{Name: VolumeData, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	return vols
}

func podSecurityContext(uid int64) *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:        ptr.To(true),
		RunAsUser:           ptr.To(uid),
		RunAsGroup:          ptr.To(uid),
		FSGroup:             ptr.To(uid),
		FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// affinity keeps members apart so that one node's loss costs at most one member.
func affinity(bp Blueprint) *corev1.Affinity {
	s := bp.Workload.Scheduling
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: SelectorLabels(bp.Engine, bp.Name)},
		TopologyKey:   s.TopologyKey,
	}
	if term.TopologyKey == "" {
		term.TopologyKey = corev1.LabelHostname
	}
	switch s.AntiAffinity {
	case v1alpha1.AntiAffinityNone:
		return nil
	case v1alpha1.AntiAffinityRequired:
		return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term},
		}}
	default:
		return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term}},
		}}
	}
}
