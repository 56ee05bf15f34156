package dataplane

import (
	"fmt"
	"slices"
)

// ScaleDownBlocker says why the cluster may not lose server `leaving` now, or "" when
// it may: JetStream must be healthy (a scale-down must not be the second loss), and
// every stream must still find its replication factor among the servers that remain,
// and no stream may have its only copy on the leaving server. A server that left
// before must be out of the meta group first (members are the servers the cluster
// has now): until then its streams' replicas still count it, and a second removal
// could take a stream's majority with it.
func ScaleDownBlocker(h Health, leaving string, members []string) string {
	if !h.Healthy() {
		return fmt.Sprintf("JetStream is not healthy (meta leader %q, behind: %v)", h.MetaLeader, h.Lagging)
	}
	for _, s := range h.Servers {
		if !slices.Contains(members, s) {
			return fmt.Sprintf("%s, which left the cluster, is still in the JetStream meta group", s)
		}
	}
	remaining := 0
	for _, s := range h.Servers {
		if s != leaving {
			remaining++
		}
	}
	for _, s := range h.Streams {
		if s.Replicas > remaining {
			return fmt.Sprintf("stream %s/%s has %d replicas and only %d servers would remain; lower its replicas first", s.Account, s.Name, s.Replicas, remaining)
		}
		// A single copy on the leaving server has nowhere to be copied from.
		if len(s.Peers) == 1 && s.Peers[0] == leaving {
			return fmt.Sprintf("stream %s/%s has its only copy on %s; raise its replicas (or move it) first", s.Account, s.Name, leaving)
		}
	}
	return ""
}
