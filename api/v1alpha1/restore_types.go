package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AnnotationRestoring on a cluster names the Restore that writes into it: the
// data-plane manager holds still (no failover, no repointing) until it is gone.
const AnnotationRestoring = "stowage.dev/restoring"

// RestoreSource is the backup a restore reads: a Backup object, or a location in a
// target (for backups whose Backup object is gone, or that another cluster made).
//
// +kubebuilder:validation:XValidation:rule="has(self.backupName) != has(self.location)",message="exactly one of source.backupName or source.location must be set"
type RestoreSource struct {
	// BackupName of a completed Backup in this namespace.
	// +kubebuilder:validation:MinLength=1
	// +optional
	BackupName string `json:"backupName,omitempty"`

	// Location of a backup's manifest inside a target.
	// +optional
	Location *BackupLocation `json:"location,omitempty"`
}

// BackupLocation is a backup's manifest inside a target.
type BackupLocation struct {
	// Target holding the backup.
	Target BackupTarget `json:"target"`

	// Path of the backup's manifest inside the target.
	// +kubebuilder:validation:MinLength=1
	Path string `json:"path"`
}

// RestoreSpec is the desired state of a Restore. It cannot change once created.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Restore's spec cannot change after creation; create a new Restore"
type RestoreSpec struct {
	// Cluster to restore into. It must hold no data unless Force is set.
	Cluster ClusterReference `json:"cluster"`

	// Source backup.
	Source RestoreSource `json:"source"`

	// Force restores into a cluster that already holds data, replacing it.
	// +optional
	Force bool `json:"force,omitempty"`
}

// RestoreStatus is the observed state of a Restore.
type RestoreStatus struct {
	// Phase of the restore.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// StartedAt is when the restore job started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// CompletedAt is when the restore finished, successfully or not.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// Duration is how long the restore took.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`

	// SourceInstance is the member the restored backup was taken from.
	// +optional
	SourceInstance string `json:"sourceInstance,omitempty"`

	// Bytes read.
	// +optional
	Bytes int64 `json:"bytes,omitempty"`

	// Error says why the restore failed.
	// +optional
	Error string `json:"error,omitempty"`

	// Conditions of the restore.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Restore loads a backup into a cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=stowage
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster.name`
// +kubebuilder:printcolumn:name="Backup",type=string,JSONPath=`.spec.source.backupName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Restore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RestoreSpec   `json:"spec"`
	Status RestoreStatus `json:"status,omitempty"`
}

// RestoreList is a list of Restores.
//
// +kubebuilder:object:root=true
type RestoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Restore `json:"items"`
}

func init() { SchemeBuilder.Register(&Restore{}, &RestoreList{}) }
