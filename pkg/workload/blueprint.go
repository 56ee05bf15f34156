package workload

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Blueprint is everything the shared builders need to know about one cluster. An
// engine fills it from its custom resource; nothing in it is engine-specific in shape.
type Blueprint struct {
	// Engine is the engine's label value: mysql, redis or nats.
	Engine string
	// Name and Namespace of the cluster resource.
	Name      string
	Namespace string
	// Owner is the controller reference every built object carries.
	Owner metav1.OwnerReference

	// Workload is the engine-neutral part of the cluster's spec.
	Workload v1alpha1.WorkloadSpec
	// Image is the engine image after defaulting.
	Image string

	// Container describes the engine container.
	Container Container
	// Config is the ConfigMap's data: file name to content.
	Config map[string]string
	// RestartConfig is the part of Config a running member cannot take without a
	// restart; its digest goes on the pod template. Nil means all of Config. An engine
	// whose data plane reloads configuration (NATS) leaves the rest out, so a change
	// of it reaches members without restarting them.
	RestartConfig map[string]string
	// ConfigPath is where the ConfigMap is mounted in the engine container.
	ConfigPath string
	// DataPath is where the member's volume is mounted.
	DataPath string
	// UserID the engine runs as; also the fsGroup of its volume.
	UserID int64

	// ClientPorts are the ports client Services expose.
	ClientPorts []corev1.ServicePort
	// HasPrimary engines get a primary and a replica Service selected by LabelRole
	// instead of one client Service.
	HasPrimary bool
	// ParallelStart starts all members of a new cluster at once instead of one after
	// the other; engines whose members must see each other before any is healthy need
	// it (a JetStream meta group). Scaling stays one member at a time either way
	// (pkg/cluster steps spec.replicas).
	ParallelStart bool
	// CredentialKeys are the keys the credentials Secret must hold.
	CredentialKeys []string
	// SecretName is the Secret the credentials are read from.
	SecretName string
	// CheckCredential, when set, vets each value of a user-supplied Secret (the
	// generated ones are letters and digits), so that a password the engine's
	// configuration cannot carry is refused with a clear condition.
	CheckCredential func(key string, value []byte) error
}

// Container is the engine container of every member.
type Container struct {
	Command        []string
	Args           []string
	Env            []corev1.EnvVar
	Ports          []corev1.ContainerPort
	StartupProbe   *corev1.Probe
	LivenessProbe  *corev1.Probe
	ReadinessProbe *corev1.Probe
	// PreStop runs before the container is stopped (NATS: lame-duck mode).
	PreStop *corev1.LifecycleHandler
}

// Names of the cluster's objects.
func (bp Blueprint) Names() Names { return Names{Cluster: bp.Name} }

// HasVolume reports whether members get a PersistentVolumeClaim; an engine may run
// without one (NATS without JetStream) when the size is zero.
func (bp Blueprint) HasVolume() bool { return !bp.Workload.Storage.Size.IsZero() }

func (bp Blueprint) objectMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       bp.Namespace,
		Labels:          CommonLabels(bp.Engine, bp.Name),
		OwnerReferences: []metav1.OwnerReference{bp.Owner},
	}
}

// SecretEnv is an environment variable read from the credentials Secret, so that no
// credential ever appears in a pod's command line or spec.
func (bp Blueprint) SecretEnv(name, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: bp.SecretName},
		Key:                  key,
	}}}
}

// NewBlueprint fills the parts of a Blueprint that come straight from the cluster
// resource; the engine adds its container, configuration and ports.
func NewBlueprint(engine string, gvk schema.GroupVersionKind, c v1alpha1.Cluster) Blueprint {
	w := c.GetWorkload()
	bp := Blueprint{
		Engine:     engine,
		Name:       c.GetName(),
		Namespace:  c.GetNamespace(),
		Owner:      *metav1.NewControllerRef(c, gvk),
		Workload:   *w.DeepCopy(),
		Image:      w.Image,
		SecretName: Names{Cluster: c.GetName()}.Secret(),
	}
	if w.CredentialsSecretRef != nil {
		bp.SecretName = w.CredentialsSecretRef.Name
	}
	return bp
}

// UsesGeneratedSecret reports whether the operator owns the credentials Secret.
func (bp Blueprint) UsesGeneratedSecret() bool { return bp.Workload.CredentialsSecretRef == nil }
