// Package cluster is the reconciler every engine shares: it keeps a cluster's
// Kubernetes objects (credentials, configuration, Services, StatefulSet, volumes,
// disruption budget, role labels) in the shape the engine's Blueprint describes and
// reports what it sees in status.
//
// It owns Kubernetes objects only. Talking to the databases themselves (replication,
// failover) belongs to each engine's data-plane manager, which this reconciler wakes
// but never waits for.
package cluster
