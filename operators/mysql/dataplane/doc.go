// Package dataplane talks SQL to a MySQLCluster's members: it reads each member's
// replication state and configures, promotes and fences members. The per-cluster
// supervisor built on it (gather → decide → act) lives apart from the Kubernetes
// reconciler, which only owns Kubernetes objects.
//
// Members are reached through an address the caller gives (a pod's DNS name in a
// cluster, a loopback port in the data-plane tests), so the same code runs in both.
package dataplane
