package v1alpha1

import "sigs.k8s.io/controller-runtime/pkg/client"

// Cluster is what every cluster kind offers the shared reconciler.
// +kubebuilder:object:generate=false
type Cluster interface {
	client.Object
	// GetWorkload returns the engine-neutral part of the spec.
	GetWorkload() *WorkloadSpec
	// GetClusterStatus returns the engine-neutral part of the status.
	GetClusterStatus() *ClusterStatus
}

func (c *MySQLCluster) GetWorkload() *WorkloadSpec       { return &c.Spec.WorkloadSpec }
func (c *MySQLCluster) GetClusterStatus() *ClusterStatus { return &c.Status.ClusterStatus }
func (c *RedisCluster) GetWorkload() *WorkloadSpec       { return &c.Spec.WorkloadSpec }
func (c *RedisCluster) GetClusterStatus() *ClusterStatus { return &c.Status.ClusterStatus }
func (c *NATSCluster) GetWorkload() *WorkloadSpec        { return &c.Spec.WorkloadSpec }
func (c *NATSCluster) GetClusterStatus() *ClusterStatus  { return &c.Status.ClusterStatus }

// JetStreamEnabled reports whether the NATSCluster runs JetStream (the default).
func (c *NATSCluster) JetStreamEnabled() bool {
	return c.Spec.JetStream.Enabled == nil || *c.Spec.JetStream.Enabled
}
