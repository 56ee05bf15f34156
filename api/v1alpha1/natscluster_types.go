package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// JetStreamSpec configures JetStream persistence on every member.
type JetStreamSpec struct {
	// Enabled turns JetStream on. It needs a non-zero spec.storage.size and an odd
	// number of replicas, so that the meta group always has a majority.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// MaxMemory caps the memory JetStream's memory-backed streams may use on each
	// member; the server decides when unset.
	// +optional
	MaxMemory *resource.Quantity `json:"maxMemory,omitempty"`
}

// NATSClusterSpec is the desired state of a NATSCluster.
//
// +kubebuilder:validation:XValidation:rule="has(self.jetStream.enabled) && !self.jetStream.enabled || quantity(string(self.storage.size)).isGreaterThan(quantity('0'))",message="spec.storage.size must be greater than zero when JetStream is enabled",fieldPath=".storage.size"
// +kubebuilder:validation:XValidation:rule="has(self.jetStream.enabled) && !self.jetStream.enabled || self.replicas % 2 == 1",message="spec.replicas must be odd when JetStream is enabled, so the meta group keeps a majority",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="!has(self.parameters) || self.parameters.all(k, !(k in ['port', 'listen', 'host', 'server_name', 'cluster', 'jetstream', 'authorization', 'accounts', 'http', 'http_port', 'monitor_port', 'include', 'pid_file', 'system_account', 'no_auth_user', 'lame_duck_duration', 'lame_duck_grace_period', 'leafnodes', 'leaf', 'gateway']))",message="spec.parameters must not set options the operator manages (port, listen, host, server_name, cluster, jetstream, authorization, accounts, http, http_port, monitor_port, include, pid_file, system_account, no_auth_user, lame_duck_duration, lame_duck_grace_period, leafnodes, leaf, gateway): use spec.leafNodes and spec.gateway",fieldPath=".parameters"
type NATSClusterSpec struct {
	WorkloadSpec `json:",inline"`

	// JetStream persistence.
	// +kubebuilder:default={}
	// +optional
	JetStream JetStreamSpec `json:"jetStream,omitempty"`

	// LeafNodes connects other NATS servers to this cluster as leaf nodes, and this
	// cluster to others.
	// +optional
	LeafNodes *LeafNodesSpec `json:"leafNodes,omitempty"`

	// Gateway joins this cluster to a NATS super-cluster under its own name.
	// +optional
	Gateway *GatewaySpec `json:"gateway,omitempty"`
}

// LeafNodesSpec configures leaf-node connections in both directions.
type LeafNodesSpec struct {
	// Port accepts leaf-node connections on every member (and on the client
	// Service). Leaf nodes authenticate as user "leaf" with the credentials Secret's
	// leaf-password and join the applications' account. Unset: none are accepted.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`

	// Remotes are NATS servers this cluster connects to as a leaf node, with the
	// applications' account.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Remotes []RemoteServer `json:"remotes,omitempty"`
}

// GatewaySpec configures the cluster's gateway.
type GatewaySpec struct {
	// Port accepts gateway connections from the other clusters. They authenticate as
	// user "gateway" with the credentials Secret's gateway-password.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=7222
	// +optional
	Port int32 `json:"port,omitempty"`

	// Gateways are the other clusters of the super-cluster.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Gateways []RemoteGateway `json:"gateways,omitempty"`
}

// RemoteGateway is another cluster of the super-cluster.
type RemoteGateway struct {
	// Name is the other cluster's name (its cluster and gateway name).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	RemoteServer `json:",inline"`
}

// RemoteServer is a NATS server or cluster this one connects to.
//
// +kubebuilder:validation:XValidation:rule="self.urls.all(u, u.matches('^(nats|nats-leaf|tls|ws|wss)://[^@/]+(:[0-9]+)?/?$'))",message="urls must be nats://, nats-leaf://, tls://, ws:// or wss:// host:port URLs without credentials (name a Secret in credentialsSecretRef instead)",fieldPath=".urls"
type RemoteServer struct {
	// URLs of the remote's servers.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=253
	URLs []string `json:"urls"`

	// CredentialsSecretRef names a Secret in the cluster's namespace whose keys
	// username and password the remote expects; none when it needs no credentials.
	// +optional
	CredentialsSecretRef *corev1.LocalObjectReference `json:"credentialsSecretRef,omitempty"`
}

// NATSClusterStatus is the observed state of a NATSCluster.
type NATSClusterStatus struct {
	ClusterStatus `json:",inline"`

	// JetStream is what the operator's data-plane manager last saw of JetStream.
	// +optional
	JetStream *JetStreamStatus `json:"jetStream,omitempty"`

	// Config is how far the servers are with the configuration last written.
	// +optional
	Config *ConfigReloadStatus `json:"config,omitempty"`
}

// ConfigReloadStatus tells which servers run the configuration the operator last
// wrote. A change that needs no restart (routes, reloadable parameters) reaches
// running servers by a reload once the kubelet has updated their file, which may take
// a minute or two.
type ConfigReloadStatus struct {
	// Current servers run the configuration last written.
	Current []string `json:"current,omitempty"`
	// Pending servers run an earlier one; the operator asks each to reload until it
	// runs the new one (or restarts it, when its pod template changed too).
	Pending []string `json:"pending,omitempty"`
	// Error is the last reload a server refused, with its reason.
	Error string `json:"error,omitempty"`
	// LastReload is when a server last took a new configuration by a reload.
	// +optional
	LastReload *metav1.Time `json:"lastReload,omitempty"`
}

// JetStreamStatus is JetStream's meta group and streams as the meta leader and the
// stream leaders report them.
type JetStreamStatus struct {
	// Healthy: a meta leader, every server current, every stream and consumer led and
	// every replica of them current.
	Healthy bool `json:"healthy"`
	// MetaLeader is the server leading the meta group.
	MetaLeader string `json:"metaLeader,omitempty"`
	// Servers in the meta group.
	Servers []string `json:"servers,omitempty"`
	// Lagging servers are offline or behind.
	Lagging []string `json:"lagging,omitempty"`
	// Streams counts the streams of every account.
	Streams int32 `json:"streams"`
	// StreamsDegraded counts streams without a leader or with a replica behind.
	StreamsDegraded int32 `json:"streamsDegraded,omitempty"`
	// Consumers counts the consumers of every stream.
	Consumers int32 `json:"consumers,omitempty"`
	// ConsumersDegraded counts consumers without a leader or with a replica behind.
	ConsumersDegraded int32 `json:"consumersDegraded,omitempty"`
	// Error is the last error reading JetStream.
	Error string `json:"error,omitempty"`
	// ObservedAt is when this was read.
	ObservedAt metav1.Time `json:"observedAt,omitempty"`
}

// NATSCluster is a clustered NATS server with JetStream.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=nats,categories=stowage
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NATSCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NATSClusterSpec   `json:"spec"`
	Status NATSClusterStatus `json:"status,omitempty"`
}

// NATSClusterList is a list of NATSClusters.
//
// +kubebuilder:object:root=true
type NATSClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NATSCluster `json:"items"`
}

func init() { SchemeBuilder.Register(&NATSCluster{}, &NATSClusterList{}) }
