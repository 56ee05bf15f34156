package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterReference names a MySQLCluster, RedisCluster or NATSCluster in the same
// namespace.
type ClusterReference struct {
	// Kind of the cluster.
	// +kubebuilder:validation:Enum=MySQLCluster;RedisCluster;NATSCluster
	Kind string `json:"kind"`

	// Name of the cluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
}

// BackupTarget is where a backup is stored: exactly one of a PVC or an S3 bucket.
//
// +kubebuilder:validation:XValidation:rule="has(self.pvc) != has(self.s3)",message="exactly one of target.pvc or target.s3 must be set"
type BackupTarget struct {
	// PVC stores backups on a PersistentVolumeClaim in the backup's namespace.
	// +optional
	PVC *PVCTarget `json:"pvc,omitempty"`

	// S3 stores backups in an S3-compatible bucket.
	// +optional
	S3 *S3Target `json:"s3,omitempty"`
}

// PVCTarget is a PersistentVolumeClaim backups are written to.
type PVCTarget struct {
	// ClaimName of the PersistentVolumeClaim.
	// +kubebuilder:validation:MinLength=1
	ClaimName string `json:"claimName"`

	// Path inside the volume under which backups are written.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._/-]*$`
	// +optional
	Path string `json:"path,omitempty"`
}

// S3Target is an S3-compatible bucket.
type S3Target struct {
	// Endpoint is the host[:port] of the S3 API.
	// +kubebuilder:validation:MinLength=1
	Endpoint string `json:"endpoint"`

	// Bucket name.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	Bucket string `json:"bucket"`

	// Prefix under which backups are written.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// Region of the bucket.
	// +optional
	Region string `json:"region,omitempty"`

	// Insecure talks plain HTTP to the endpoint.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// CredentialsSecretRef names a Secret with the keys accessKeyID and secretAccessKey.
	CredentialsSecretRef corev1.LocalObjectReference `json:"credentialsSecretRef"`
}

// Compression of backup files.
// +kubebuilder:validation:Enum=none;gzip;zstd
type Compression string

// BackupSource says which member a backup is taken from.
// +kubebuilder:validation:Enum=PreferReplica;Primary
type BackupSource string

// BackupTemplate is what a Backup or a BackupSchedule says about the backup to take.
type BackupTemplate struct {
	// Cluster to back up.
	Cluster ClusterReference `json:"cluster"`

	// Target to store the backup in.
	Target BackupTarget `json:"target"`

	// Compression of the stored files.
	// +kubebuilder:default=zstd
	// +optional
	Compression Compression `json:"compression,omitempty"`

	// Source member: a healthy replica unless Primary is asked for, so the primary is
	// not loaded.
	// +kubebuilder:default=PreferReplica
	// +optional
	Source BackupSource `json:"source,omitempty"`
}

// BackupSpec is the desired state of a Backup. It cannot change once the backup exists.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Backup's spec cannot change after creation; create a new Backup"
type BackupSpec struct {
	BackupTemplate `json:",inline"`
}

// BackupPhase is where a Backup or Restore is in its life.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type BackupPhase string

const (
	BackupPending   BackupPhase = "Pending"
	BackupRunning   BackupPhase = "Running"
	BackupCompleted BackupPhase = "Completed"
	BackupFailed    BackupPhase = "Failed"
)

// BackupStatus is the observed state of a Backup.
type BackupStatus struct {
	// Phase of the backup.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// StartedAt is when the backup job started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// CompletedAt is when the backup finished, successfully or not.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// Duration is how long the backup took.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`

	// SourceInstance is the member the backup was taken from.
	// +optional
	SourceInstance string `json:"sourceInstance,omitempty"`

	// Location is where the backup's manifest is stored, inside the target.
	// +optional
	Location string `json:"location,omitempty"`

	// Bytes stored.
	// +optional
	Bytes int64 `json:"bytes,omitempty"`

	// Position is the engine's replication position the backup is consistent at
	// (a GTID set, a replication offset, a stream sequence).
	// +optional
	Position string `json:"position,omitempty"`

	// Error says why the backup failed.
	// +optional
	Error string `json:"error,omitempty"`

	// Conditions of the backup.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Backup is one backup of a cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=stowage
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster.name`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.cluster.kind`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Bytes",type=integer,JSONPath=`.status.bytes`
// +kubebuilder:printcolumn:name="Took",type=string,JSONPath=`.status.duration`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Backup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackupSpec   `json:"spec"`
	Status BackupStatus `json:"status,omitempty"`
}

// BackupList is a list of Backups.
//
// +kubebuilder:object:root=true
type BackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Backup `json:"items"`
}

func init() { SchemeBuilder.Register(&Backup{}, &BackupList{}) }
