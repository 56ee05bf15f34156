// Package dataplane is the Redis engine's data-plane manager: it talks RESP to every
// member (go-redis) and keeps one writable primary with replicas that follow it.
//
// Every pass gathers each member's MemberState (INFO replication), Decide maps the
// observation to one State and a Plan, and the Supervisor acts. The states:
//
//   - Bootstrap: the primary is up and no replica follows it yet.
//   - Healthy: the primary is writable and every replica has a live link to it.
//   - Degraded: the primary is fine; some replicas are down, syncing or repointed.
//   - PrimaryLost: the primary does not answer, but not for the grace period yet, or a
//     majority of replicas still has a live link to it (the operator may be the one
//     cut off): wait.
//   - Failover: the primary has not answered for the grace period — or it restarted
//     and lost the replication history its replicas hold — and a majority of replicas
//     lost their link: promote the replica with the highest replication offset.
//   - Switchover: a human (or a rollout, or a scale-down) asked for another primary.
//   - Unsafe: a promotion is needed but no replica is fit for it: wait for a human.
//
// Fencing. Every member starts parked: redis.conf makes it a replica of an address
// where nothing listens (ParkedHost:ParkedPort). A parked member is read-only and
// refuses to feed other replicas (NOMASTERLINK), so a member that restarts — the old
// primary above all — can neither take writes nor overwrite its former replicas with
// what it reloaded, until the supervisor promotes it or points it at the primary.
// A primary cut off from the operator without restarting keeps its role until it
// answers again; min-replicas-to-write then bounds how long it accepts writes, since
// its replicas have been moved to the new primary.
package dataplane
