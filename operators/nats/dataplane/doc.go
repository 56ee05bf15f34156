// Package dataplane is the NATS engine's data-plane manager: it talks to the
// cluster's JetStream through the system account (nats.go), reads the meta group and
// every stream's replica set from the meta leader, removes a departing server from
// the meta group ($JS.API.SERVER.REMOVE), and decides whether a scale-down may go
// ahead: never while JetStream is unhealthy, and never when a stream's replication
// factor is larger than the servers that remain.
package dataplane
