package workload

import (
	"fmt"
	"strconv"
	"strings"
)

// Label keys the operator sets on everything it creates.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelComponent = "app.kubernetes.io/component"
	// LabelRole is the member's role, owned by the operator: the primary and replica
	// Services select on it, so moving it is what moves client traffic.
	LabelRole = "stowage.dev/role"

	ManagedBy = "stowage"

	RolePrimary = "primary"
	RoleReplica = "replica"

	// AnnotationConfigHash on the pod template rolls the members when their
	// configuration changes.
	AnnotationConfigHash = "stowage.dev/config-hash"
)

// Names are the names of the objects that make up one cluster, derived from the
// cluster's name so that they can be found again without a lookup.
type Names struct{ Cluster string }

func (n Names) StatefulSet() string     { return n.Cluster }
func (n Names) HeadlessService() string { return n.Cluster + "-headless" }
func (n Names) ClientService() string   { return n.Cluster }
func (n Names) PrimaryService() string  { return n.Cluster + "-primary" }
func (n Names) ReplicaService() string  { return n.Cluster + "-replicas" }
func (n Names) ConfigMap() string       { return n.Cluster + "-config" }
func (n Names) Secret() string          { return n.Cluster + "-credentials" }
func (n Names) PodDisruptionBudget() string {
	return n.Cluster
}

// Pod is the name of the member with the given ordinal.
func (n Names) Pod(ordinal int) string { return fmt.Sprintf("%s-%d", n.Cluster, ordinal) }

// Ordinal is the ordinal of the member named pod, if it is one of this cluster's.
func (n Names) Ordinal(pod string) (int32, bool) {
	rest, ok := strings.CutPrefix(pod, n.Cluster+"-")
	if !ok || rest == "" {
		return 0, false
	}
	i, err := strconv.ParseInt(rest, 10, 32)
	if err != nil || i < 0 || strconv.FormatInt(i, 10) != rest {
		return 0, false
	}
	return int32(i), true
}

// PodHost is the stable DNS name of a member inside the cluster.
func (n Names) PodHost(ordinal int, namespace string) string {
	return fmt.Sprintf("%s.%s.%s.svc", n.Pod(ordinal), n.HeadlessService(), namespace)
}

// SelectorLabels select the members of one cluster of one engine. They never change
// after creation, because a StatefulSet's selector is immutable.
func SelectorLabels(engine, cluster string) map[string]string {
	return map[string]string{LabelName: engine, LabelInstance: cluster}
}

// CommonLabels are set on every object of a cluster.
func CommonLabels(engine, cluster string) map[string]string {
	l := SelectorLabels(engine, cluster)
	l[LabelManagedBy] = ManagedBy
	return l
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
