package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Condition types every cluster kind reports.
const (
	// ConditionReady is True when every desired member is running and ready.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the cluster moves towards its spec
	// (creating, scaling, rolling out a change).
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when the cluster serves with fewer ready members than
	// desired, or the operator cannot reconcile it.
	ConditionDegraded = "Degraded"
)

// ClusterPhase is a one-word summary of the conditions, for `kubectl get`.
type ClusterPhase string

const (
	PhaseCreating ClusterPhase = "Creating"
	PhaseReady    ClusterPhase = "Ready"
	PhaseScaling  ClusterPhase = "Scaling"
	PhaseUpdating ClusterPhase = "Updating"
	PhaseDegraded ClusterPhase = "Degraded"
	PhaseFailed   ClusterPhase = "Failed"
)

// ClusterStatus is what every cluster kind reports.
type ClusterStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions.
	// +optional
	Phase ClusterPhase `json:"phase,omitempty"`

	// Replicas is the number of members that exist.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// ReadyReplicas is the number of members that are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Selector is the label selector of the members, for the scale subresource.
	// +optional
	Selector string `json:"selector,omitempty"`

	// CurrentPrimary is the member that accepts writes, for engines that have one.
	// +optional
	CurrentPrimary string `json:"currentPrimary,omitempty"`

	// CredentialsSecret is the Secret the members' credentials are read from.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`

	// Restore follows spec.restoreFrom: the Restore that fills the new cluster.
	// +optional
	Restore *ClusterRestore `json:"restore,omitempty"`

	// Conditions: Ready, Progressing, Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterRestore is how far the restore of spec.restoreFrom is.
type ClusterRestore struct {
	// Name of the Restore.
	Name string `json:"name"`
	// Phase of the Restore.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`
	// Error says why it failed.
	// +optional
	Error string `json:"error,omitempty"`
}
