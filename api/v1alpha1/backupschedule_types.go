package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConcurrencyPolicy says what a schedule does when the previous backup still runs.
// +kubebuilder:validation:Enum=Allow;Forbid;Replace
type ConcurrencyPolicy string

// BackupRetention says which completed backups of a schedule are kept.
//
// +kubebuilder:validation:XValidation:rule="has(self.keepLast) || has(self.maxAge)",message="retention needs keepLast, maxAge or both"
type BackupRetention struct {
	// KeepLast keeps this many most recent completed backups.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepLast *int32 `json:"keepLast,omitempty"`

	// MaxAge deletes completed backups older than this (e.g. 168h).
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`
}

// BackupScheduleSpec is the desired state of a BackupSchedule.
type BackupScheduleSpec struct {
	// Schedule in cron format (five fields, or @hourly, @daily, ...), in UTC.
	// +kubebuilder:validation:XValidation:rule="self.matches('^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every [0-9]+[smh]|([^ ]+ +){4}[^ ]+)$')",message="spec.schedule must be a cron expression of five fields or a descriptor such as @daily"
	Schedule string `json:"schedule"`

	// Suspend stops new backups from being started.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ConcurrencyPolicy when a scheduled backup is due while another still runs.
	// +kubebuilder:default=Forbid
	// +optional
	ConcurrencyPolicy ConcurrencyPolicy `json:"concurrencyPolicy,omitempty"`

	// Retention of completed backups made by this schedule.
	// +optional
	Retention *BackupRetention `json:"retention,omitempty"`

	// Template of the backups to take.
	Template BackupTemplate `json:"template"`
}

// BackupScheduleStatus is the observed state of a BackupSchedule.
type BackupScheduleStatus struct {
	// LastScheduleTime is when a backup was last started.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`

	// LastSuccessfulBackup names the most recent completed Backup.
	// +optional
	LastSuccessfulBackup string `json:"lastSuccessfulBackup,omitempty"`

	// Active lists the Backups of this schedule that are running.
	// +optional
	Active []string `json:"active,omitempty"`

	// Conditions of the schedule.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// BackupSchedule takes Backups of a cluster on a schedule and prunes old ones.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=stowage
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.template.cluster.name`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Last",type=date,JSONPath=`.status.lastScheduleTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BackupSchedule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackupScheduleSpec   `json:"spec"`
	Status BackupScheduleStatus `json:"status,omitempty"`
}

// BackupScheduleList is a list of BackupSchedules.
//
// +kubebuilder:object:root=true
type BackupScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BackupSchedule `json:"items"`
}

func init() { SchemeBuilder.Register(&BackupSchedule{}, &BackupScheduleList{}) }
