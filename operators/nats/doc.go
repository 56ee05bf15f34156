// Package nats runs NATSClusters: clustered nats-server members with JetStream on
// their own volumes.
//
// The engine describes itself to the shared reconciler (pkg/cluster) as a Blueprint;
// nats-server.conf, the routes, the probes and the credential keys live here.
package nats
