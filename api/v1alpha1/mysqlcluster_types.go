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
}

// MySQLClusterStatus is the observed state of a MySQLCluster.
type MySQLClusterStatus struct {
	ClusterStatus `json:",inline"`
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
