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

// RedisClusterSpec is the desired state of a RedisCluster.
//
// +kubebuilder:validation:XValidation:rule="self.mode == oldSelf.mode",message="spec.mode is immutable",fieldPath=".mode"
// +kubebuilder:validation:XValidation:rule="quantity(string(self.storage.size)).isGreaterThan(quantity('0'))",message="spec.storage.size must be greater than zero",fieldPath=".storage.size"
// +kubebuilder:validation:XValidation:rule="!has(self.parameters) || self.parameters.all(k, !(k.lowerAscii() in ['port', 'bind', 'dir', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'include', 'appendonly', 'appendfsync', 'save', 'protected-mode', 'daemonize', 'cluster-enabled', 'rename-command']))",message="spec.parameters must not set options the operator manages (port, bind, dir, requirepass, masterauth, masteruser, replicaof, slaveof, include, appendonly, appendfsync, save, protected-mode, daemonize, cluster-enabled, rename-command)",fieldPath=".parameters"
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
}

// RedisClusterStatus is the observed state of a RedisCluster.
type RedisClusterStatus struct {
	ClusterStatus `json:",inline"`
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
