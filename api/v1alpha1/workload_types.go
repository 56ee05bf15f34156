package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// MaxReplicas is the most members a cluster may have (spec.replicas' maximum).
const MaxReplicas = 9

// WorkloadSpec is the part of a cluster's spec every engine shares: how many members,
// which image, where their data lives and where they may run.
//
// +kubebuilder:validation:XValidation:rule="!has(self.image) || size(self.image) > 0",message="spec.image must not be empty when set",fieldPath=".image"
type WorkloadSpec struct {
	// Replicas is the number of members. Members are added and removed one at a time,
	// highest ordinal last in and first out.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9
	// +kubebuilder:default=3
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Image overrides the operator's default image for the engine.
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy for the engine container.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Storage describes the volume every member gets.
	Storage StorageSpec `json:"storage"`

	// RestoreFrom fills a new cluster from a backup: it starts with its first member
	// (all members for NATS), restores the backup into it, then grows to its replicas.
	// It acts only when the cluster is created.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.restoreFrom cannot change after the cluster is created"
	// +optional
	RestoreFrom *RestoreSource `json:"restoreFrom,omitempty"`

	// Resources of the engine container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Scheduling places members on nodes.
	// +kubebuilder:default={}
	// +optional
	Scheduling SchedulingSpec `json:"scheduling,omitempty"`

	// CredentialsSecretRef names a Secret the user owns that holds the engine's
	// credentials. When unset the operator generates one named <cluster>-credentials.
	// The operator never writes to a Secret it did not create.
	// +optional
	CredentialsSecretRef *corev1.LocalObjectReference `json:"credentialsSecretRef,omitempty"`

	// Parameters are engine configuration options merged over the operator's defaults.
	// Options the operator manages itself are rejected.
	// +kubebuilder:validation:MaxProperties=200
	// +optional
	Parameters map[string]string `json:"parameters,omitempty"`
}

// StorageSpec describes the PersistentVolumeClaim each member gets.
//
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="spec.storage.storageClassName is immutable: volumes cannot move to another StorageClass",fieldPath=".storageClassName"
type StorageSpec struct {
	// StorageClassName of the members' volumes; the cluster's default class when unset.
	// It cannot change after creation.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Size of each member's volume. It may grow (when the StorageClass allows volume
	// expansion) but never shrink.
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('0')) >= 0",message="spec.storage.size must not be negative"
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0",message="spec.storage.size cannot shrink: volumes can only grow"
	Size resource.Quantity `json:"size"`

	// RetentionPolicy says what happens to the volumes when the cluster is deleted or
	// scaled down.
	// +kubebuilder:default={}
	// +optional
	RetentionPolicy VolumeRetentionPolicy `json:"retentionPolicy,omitempty"`
}

// VolumeRetention is what happens to a member's volume when the member goes away.
// +kubebuilder:validation:Enum=Retain;Delete
type VolumeRetention string

const (
	// VolumeRetain keeps the PersistentVolumeClaim and its data.
	VolumeRetain VolumeRetention = "Retain"
	// VolumeDelete deletes the PersistentVolumeClaim with the member.
	VolumeDelete VolumeRetention = "Delete"
)

// VolumeRetentionPolicy mirrors the StatefulSet's persistentVolumeClaimRetentionPolicy.
type VolumeRetentionPolicy struct {
	// WhenDeleted applies when the cluster is deleted. Retain also keeps the generated
	// credentials Secret, because the retained data can only be opened with it.
	// +kubebuilder:default=Retain
	// +optional
	WhenDeleted VolumeRetention `json:"whenDeleted,omitempty"`

	// WhenScaled applies to the members removed by a scale-down.
	// +kubebuilder:default=Retain
	// +optional
	WhenScaled VolumeRetention `json:"whenScaled,omitempty"`
}

// AntiAffinity says how hard the scheduler must try to keep members apart.
// +kubebuilder:validation:Enum=Preferred;Required;None
type AntiAffinity string

const (
	// AntiAffinityPreferred spreads members when it can.
	AntiAffinityPreferred AntiAffinity = "Preferred"
	// AntiAffinityRequired never places two members in the same topology domain.
	AntiAffinityRequired AntiAffinity = "Required"
	// AntiAffinityNone leaves placement to the scheduler.
	AntiAffinityNone AntiAffinity = "None"
)

// SchedulingSpec passes placement settings through to the members' pods.
type SchedulingSpec struct {
	// AntiAffinity between members of this cluster.
	// +kubebuilder:default=Preferred
	// +optional
	AntiAffinity AntiAffinity `json:"antiAffinity,omitempty"`

	// TopologyKey is the node label that anti-affinity spreads across.
	// +kubebuilder:default="kubernetes.io/hostname"
	// +kubebuilder:validation:MinLength=1
	// +optional
	TopologyKey string `json:"topologyKey,omitempty"`

	// NodeSelector for the members' pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations for the members' pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// PriorityClassName for the members' pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
}
