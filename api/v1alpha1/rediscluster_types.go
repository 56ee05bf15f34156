package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// RedisMode is how a RedisCluster's members relate.
// +kubebuilder:validation:Enum=Replication
type RedisMode string

// RedisModeReplication is one primary with replicas whose failover the operator owns.
// Sharded Redis Cluster is a future mode.
const RedisModeReplication RedisMode = "Replication"

// RedisAppendFsync is Redis' appendfsync policy.
// +kubebuilder:validation:Enum=always;everysec;no
type RedisAppendFsync string

// RedisPersistence says how members write their data to their volume.
type RedisPersistence struct {
	// AppendOnly turns the append-only file on.
	// +kubebuilder:default=true
	// +optional
	AppendOnly *bool `json:"appendOnly,omitempty"`

	// AppendFsync is how often the append-only file is flushed.
	// +kubebuilder:default=everysec
	// +optional
	AppendFsync RedisAppendFsync `json:"appendFsync,omitempty"`

	// RDBSave is Redis' `save` schedule ("" turns RDB snapshots off).
	// +kubebuilder:default="3600 1 300 100 60 10000"
	// +kubebuilder:validation:Pattern=`^$|^[0-9]+ [0-9]+( [0-9]+ [0-9]+)*$`
	// +optional
	RDBSave *string `json:"rdbSave,omitempty"`
}

// RedisReplicationSpec tunes replication and failover.
//
// +kubebuilder:validation:XValidation:rule="!has(self.healthCheckInterval) || (duration(self.healthCheckInterval) >= duration('100ms') && duration(self.healthCheckInterval) <= duration('1m'))",message="spec.replication.healthCheckInterval must be between 100ms and 1m",fieldPath=".healthCheckInterval"
// +kubebuilder:validation:XValidation:rule="!has(self.failoverGrace) || duration(self.failoverGrace) >= duration('1s')",message="spec.replication.failoverGrace must be at least 1s",fieldPath=".failoverGrace"
// +kubebuilder:validation:XValidation:rule="!has(self.maxLag) || (duration(self.maxLag) >= duration('1s') && duration(self.maxLag) <= duration('1h'))",message="spec.replication.maxLag must be between 1s and 1h",fieldPath=".maxLag"
type RedisReplicationSpec struct {
	// MinReplicasToWrite is how many replicas must have acknowledged the replication
	// stream within maxLag for the primary to take writes (Redis'
	// min-replicas-to-write). It bounds what a primary cut off from its replicas can
	// accept — and lose — to maxLag of writes. Unset means 1 whenever the cluster has
	// a replica; it never exceeds the number of replicas.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinReplicasToWrite *int32 `json:"minReplicasToWrite,omitempty"`

	// MaxLag is min-replicas-max-lag: how recent a replica's acknowledgement must be
	// to count.
	// +kubebuilder:default="10s"
	// +optional
	MaxLag *metav1.Duration `json:"maxLag,omitempty"`

	// HealthCheckInterval is how often the operator checks every member.
	// +kubebuilder:default="1s"
	// +optional
	HealthCheckInterval *metav1.Duration `json:"healthCheckInterval,omitempty"`

	// FailoverGrace is how long the primary may be unreachable (and lost by a majority
	// of replicas) before a replica is promoted. A primary that restarted is replaced
	// at once: it refuses to feed its replicas until the operator decides.
	// +kubebuilder:default="5s"
	// +optional
	FailoverGrace *metav1.Duration `json:"failoverGrace,omitempty"`

	// AutomaticFailover promotes a replica when the primary is lost. Off, the operator
	// reports the lost primary and waits for a switchover.
	// +kubebuilder:default=true
	// +optional
	AutomaticFailover *bool `json:"automaticFailover,omitempty"`
}

// RedisClusterSpec is the desired state of a RedisCluster.
//
// +kubebuilder:validation:XValidation:rule="self.mode == oldSelf.mode",message="spec.mode is immutable",fieldPath=".mode"
// +kubebuilder:validation:XValidation:rule="quantity(string(self.storage.size)).isGreaterThan(quantity('0'))",message="spec.storage.size must be greater than zero",fieldPath=".storage.size"
// +kubebuilder:validation:XValidation:rule="!has(self.parameters) || self.parameters.all(k, !(k.lowerAscii() in ['port', 'bind', 'dir', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'include', 'appendonly', 'appendfsync', 'save', 'protected-mode', 'daemonize', 'cluster-enabled', 'rename-command', 'min-replicas-to-write', 'min-slaves-to-write', 'min-replicas-max-lag', 'min-slaves-max-lag', 'replica-read-only', 'slave-read-only', 'repl-ping-replica-period', 'repl-ping-slave-period']))",message="spec.parameters must not set options the operator manages (port, bind, dir, requirepass, masterauth, masteruser, replicaof, slaveof, include, appendonly, appendfsync, save, protected-mode, daemonize, cluster-enabled, rename-command, min-replicas-to-write, min-replicas-max-lag, replica-read-only, repl-ping-replica-period and their slave- aliases)",fieldPath=".parameters"
type RedisClusterSpec struct {
	WorkloadSpec `json:",inline"`

	// Mode of the cluster; only Replication exists today.
	// +kubebuilder:default=Replication
	// +optional
	Mode RedisMode `json:"mode,omitempty"`

	// Persistence of each member's data on its volume.
	// +kubebuilder:default={}
	// +optional
	Persistence RedisPersistence `json:"persistence,omitempty"`

	// Replication tunes replication and failover.
	// +kubebuilder:default={}
	// +optional
	Replication RedisReplicationSpec `json:"replication,omitempty"`
}

// RedisClusterStatus is the observed state of a RedisCluster.
type RedisClusterStatus struct {
	ClusterStatus `json:",inline"`

	// Replication is what the operator's data-plane manager last saw.
	// +optional
	Replication *RedisReplicationStatus `json:"replication,omitempty"`
}

// RedisReplicationStatus is the data-plane manager's view of the cluster.
type RedisReplicationStatus struct {
	// State is the situation the manager recognises: Bootstrap, Healthy, Degraded,
	// PrimaryLost, Failover, Switchover or Unsafe (docs/redis.md).
	State string `json:"state,omitempty"`
	// Reason explains the state.
	Reason string `json:"reason,omitempty"`
	// ObservedAt is when the members were last checked for this status.
	ObservedAt metav1.Time `json:"observedAt,omitempty"`
	// WaitReplicas is the numreplicas an application passes to WAIT after a write
	// for the write to survive any failover the operator makes: more than the replicas
	// a failover may leave behind (ceil(replicas/2)).
	WaitReplicas int32 `json:"waitReplicas,omitempty"`
	// Members, in ordinal order.
	// +listType=map
	// +listMapKey=name
	// +optional
	Members []RedisMemberStatus `json:"members,omitempty"`
	// LastFailover records the last change of primary the operator made.
	// +optional
	LastFailover *PrimaryChange `json:"lastFailover,omitempty"`
}

// RedisMemberStatus is one member as the manager saw it.
type RedisMemberStatus struct {
	Name string `json:"name"`
	// Role is Primary, Replica, Parked (restarted, not yet attached) or Unknown
	// (unreachable).
	Role string `json:"role"`
	// Reachable is false when the operator could not read the member.
	Reachable bool `json:"reachable"`
	// Offset is the member's position in the replication stream.
	Offset int64 `json:"offset,omitempty"`
	// LinkUp is true when a replica's link to the primary is up.
	LinkUp bool `json:"linkUp,omitempty"`
	// LagBytes is how far a replica is behind the primary's offset.
	// +optional
	LagBytes *int64 `json:"lagBytes,omitempty"`
	// Error is the last error reading the member.
	// +optional
	Error string `json:"error,omitempty"`
}

// RedisCluster is a Redis primary with replicas.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=redis;rd,categories=stowage
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Primary",type=string,JSONPath=`.status.currentPrimary`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RedisCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RedisClusterSpec   `json:"spec"`
	Status RedisClusterStatus `json:"status,omitempty"`
}

// RedisClusterList is a list of RedisClusters.
//
// +kubebuilder:object:root=true
type RedisClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisCluster `json:"items"`
}

func init() { SchemeBuilder.Register(&RedisCluster{}, &RedisClusterList{}) }
