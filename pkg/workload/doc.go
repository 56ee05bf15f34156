// Package workload builds the Kubernetes objects every Stowage cluster is made of — the
// StatefulSet, its headless and client Services, the PodDisruptionBudget, the ConfigMap
// and the credentials Secret — from an engine-neutral Blueprint.
//
// Every builder is a pure function: a Blueprint in, an object out, no client. Engines
// (operators/mysql, operators/redis, operators/nats) describe themselves as a Blueprint;
// pkg/cluster applies what these builders return.
package workload
