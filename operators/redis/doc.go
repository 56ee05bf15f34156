// Package redis runs RedisClusters: a Redis primary and its replicas in a StatefulSet,
// whose failover the operator owns.
//
// The engine describes itself to the shared reconciler (pkg/cluster) as a Blueprint;
// redis.conf, the start command, the probes and the credential keys live here.
package redis
