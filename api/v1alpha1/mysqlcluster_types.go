package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// MySQLFlavor is the server implementation a MySQLCluster runs.
// +kubebuilder:validation:Enum=mysql;mariadb
type MySQLFlavor string

const (
	// FlavorMySQL is Oracle MySQL 8.4 (the official mysql image).
	FlavorMySQL MySQLFlavor = "mysql"
	// FlavorMariaDB is MariaDB 10.11 or later (the official mariadb image).
	FlavorMariaDB MySQLFlavor = "mariadb"
)

// MySQLClusterSpec is the desired state of a MySQLCluster.
//
// +kubebuilder:validation:XValidation:rule="self.flavor == oldSelf.flavor",message="spec.flavor is immutable: data files of one flavor cannot be opened by the other",fieldPath=".flavor"
// +kubebuilder:validation:XValidation:rule="quantity(string(self.storage.size)).isGreaterThan(quantity('0'))",message="spec.storage.size must be greater than zero",fieldPath=".storage.size"
// +kubebuilder:validation:XValidation:rule="!has(self.parameters) || self.parameters.all(k, !(k.replace('-', '_') in ['server_id', 'log_bin', 'gtid_mode', 'gtid_domain_id', 'read_only', 'super_read_only', 'datadir', 'port', 'socket', 'bind_address', 'report_host']))",message="spec.parameters must not set options the operator manages (server_id, log_bin, gtid_mode, gtid_domain_id, read_only, super_read_only, datadir, port, socket, bind_address, report_host)",fieldPath=".parameters"
type MySQLClusterSpec struct {
	WorkloadSpec `json:",inline"`

	// Flavor is the server implementation; it cannot change after creation.
	// +kubebuilder:default=mysql
	// +optional
	Flavor MySQLFlavor `json:"flavor,omitempty"`

	// Replication tunes semi-synchronous replication, health checks and failover.
	// +kubebuilder:default={}
	// +optional
	Replication MySQLReplicationSpec `json:"replication,omitempty"`
}

// AnnotationSwitchoverTo on a MySQLCluster or RedisCluster names the member to make
// primary. The operator carries the switchover out and removes the annotation.
const AnnotationSwitchoverTo = "stowage.dev/switchover-to"

// MySQLReplicationSpec tunes replication and failover.
//
// +kubebuilder:validation:XValidation:rule="!has(self.healthCheckInterval) || (duration(self.healthCheckInterval) >= duration('100ms') && duration(self.healthCheckInterval) <= duration('1m'))",message="spec.replication.healthCheckInterval must be between 100ms and 1m",fieldPath=".healthCheckInterval"
// +kubebuilder:validation:XValidation:rule="!has(self.failoverGrace) || duration(self.failoverGrace) >= duration('1s')",message="spec.replication.failoverGrace must be at least 1s",fieldPath=".failoverGrace"
// +kubebuilder:validation:XValidation:rule="!has(self.semiSyncTimeout) || duration(self.semiSyncTimeout) >= duration('1s')",message="spec.replication.semiSyncTimeout must be at least 1s",fieldPath=".semiSyncTimeout"
type MySQLReplicationSpec struct {
	// SemiSync makes every commit on the primary wait until replicas acknowledge it
	// (MySQL: ceil((replicas-1)/2) of them; MariaDB: one), so that a failover never
	// loses an acknowledged write. Unset means on whenever the cluster has a replica.
	// +optional
	SemiSync *bool `json:"semiSync,omitempty"`

	// SemiSyncTimeout is how long a commit waits for acknowledgements before the
	// primary continues asynchronously; from then until replicas catch up, a failover
	// can lose acknowledged writes. The long default favours durability: with too few
	// replicas a commit waits rather than risk loss.
	// +kubebuilder:default="24h"
	// +optional
	SemiSyncTimeout *metav1.Duration `json:"semiSyncTimeout,omitempty"`

	// HealthCheckInterval is how often the operator checks every member.
	// +kubebuilder:default="1s"
	// +optional
	HealthCheckInterval *metav1.Duration `json:"healthCheckInterval,omitempty"`

	// FailoverGrace is how long the primary may be unreachable (and lost by a majority
	// of replicas) before a replica is promoted.
	// +kubebuilder:default="5s"
	// +optional
	FailoverGrace *metav1.Duration `json:"failoverGrace,omitempty"`

	// AutomaticFailover promotes a replica when the primary is lost. Off, the operator
	// reports the lost primary and waits for a switchover.
	// +kubebuilder:default=true
	// +optional
	AutomaticFailover *bool `json:"automaticFailover,omitempty"`

	// RebuildErrantReplicas re-seeds a replica holding transactions the primary lacks
	// (errant transactions) from the primary. Off, such a replica is stopped and
	// reported, never silently rejoined.
	// +kubebuilder:default=true
	// +optional
	RebuildErrantReplicas *bool `json:"rebuildErrantReplicas,omitempty"`
}

// MySQLClusterStatus is the observed state of a MySQLCluster.
type MySQLClusterStatus struct {
	ClusterStatus `json:",inline"`

	// Replication is what the operator's data-plane manager last saw.
	// +optional
	Replication *MySQLReplicationStatus `json:"replication,omitempty"`
}

// MySQLReplicationStatus is the data-plane manager's view of the cluster.
type MySQLReplicationStatus struct {
	// State is the situation the manager recognises: Bootstrap, Healthy, Degraded,
	// PrimaryLost, Failover, Switchover or Unsafe (docs/mysql.md).
	State string `json:"state,omitempty"`
	// Reason explains the state.
	Reason string `json:"reason,omitempty"`
	// ObservedAt is when the members were last checked for this status.
	ObservedAt metav1.Time `json:"observedAt,omitempty"`
	// Members, in ordinal order.
	// +listType=map
	// +listMapKey=name
	// +optional
	Members []MySQLMemberStatus `json:"members,omitempty"`
	// LastFailover records the last change of primary the operator made.
	// +optional
	LastFailover *PrimaryChange `json:"lastFailover,omitempty"`
}

// MySQLMemberStatus is one member as the manager saw it.
type MySQLMemberStatus struct {
	Name string `json:"name"`
	// Role is Primary, Replica, Rebuilding or Unknown (unreachable).
	Role string `json:"role"`
	// Reachable is false when the operator could not read the member.
	Reachable bool `json:"reachable"`
	// ReadOnly members refuse application writes.
	ReadOnly bool `json:"readOnly,omitempty"`
	// GTID is the set of transactions the member has applied.
	GTID string `json:"gtid,omitempty"`
	// Replicating is true when both replication threads run against the primary.
	Replicating bool `json:"replicating,omitempty"`
	// LagSeconds is how far the replica's applier is behind its source.
	// +optional
	LagSeconds *int64 `json:"lagSeconds,omitempty"`
	// Errant lists transactions the member holds and the primary lacks.
	// +optional
	Errant string `json:"errant,omitempty"`
	// Error is the last error reading or replicating on the member.
	// +optional
	Error string `json:"error,omitempty"`
}

// PrimaryChange records a failover or switchover.
type PrimaryChange struct {
	// Kind is Failover or Switchover.
	Kind string      `json:"kind"`
	From string      `json:"from"`
	To   string      `json:"to"`
	At   metav1.Time `json:"at"`
	// Reason is why the operator changed the primary.
	Reason string `json:"reason,omitempty"`
}

// MySQLCluster is a MySQL or MariaDB primary with replicas.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=mysql;my,categories=stowage
// +kubebuilder:printcolumn:name="Flavor",type=string,JSONPath=`.spec.flavor`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Primary",type=string,JSONPath=`.status.currentPrimary`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MySQLCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MySQLClusterSpec   `json:"spec"`
	Status MySQLClusterStatus `json:"status,omitempty"`
}

// MySQLClusterList is a list of MySQLClusters.
//
// +kubebuilder:object:root=true
type MySQLClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MySQLCluster `json:"items"`
}

func init() { SchemeBuilder.Register(&MySQLCluster{}, &MySQLClusterList{}) }
