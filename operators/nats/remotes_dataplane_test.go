package nats

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
)

// TestDataPlaneLeafNodes runs the operator's configuration with leaf nodes in both
// directions on real nats-servers: an edge server connects to the cluster's leaf
// port as user leaf, and the cluster connects to a hub with credentials from a
// Secret. A message published at the edge reaches a subscriber on the cluster
// (applications' account) and one on the hub.
func TestDataPlaneLeafNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	hubPort, hubLeafPort := dbtest.FreePort(t), dbtest.FreePort(t)
	hub := dbtest.StartNATSServer(t, hubPort, fmt.Sprintf(`listen: "127.0.0.1:%d"
leafnodes { port: %d, authorization { user: "edge-of-hub", password: "hub-Secret-1" } }
`, hubPort, hubLeafPort))

	c := natsCluster(1, false, nil)
	c.Spec.LeafNodes = &v1alpha1.LeafNodesSpec{Port: ptr.To[int32](7422), Remotes: []v1alpha1.RemoteServer{
		{URLs: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", hubLeafPort)}, CredentialsSecretRef: &corev1.LocalObjectReference{Name: "hub"}},
	}}
	// The hub's password travels in a URL: it must be URL-safe (letters, digits, -._~).
	members := startLoopbackCluster(t, c, map[string]map[string][]byte{
		"hub": {KeyRemoteUsername: []byte("edge-of-hub"), KeyRemotePassword: []byte("hub-Secret-1")},
	})
	ours := members[0]

	edgePort := dbtest.FreePort(t)
	edge := dbtest.StartNATSServer(t, edgePort, fmt.Sprintf(`listen: "127.0.0.1:%d"
leafnodes { remotes: [{url: "nats-leaf://%s:%s@127.0.0.1:%d"}] }
`, edgePort, leafUser, "leaf-1", ours.leafPort))

	connect := func(url string, opts ...nats.Option) *nats.Conn {
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	atHub := connect(hub.URL())
	atOurs := connect(fmt.Sprintf("nats://127.0.0.1:%d", ours.port), nats.UserInfo(ClientUser, "20261122"))
	atEdge := connect(edge.URL())
	hubSub, err := atHub.SubscribeSync("greet")
	if err != nil {
		t.Fatal(err)
	}
	oursSub, err := atOurs.SubscribeSync("greet")
	if err != nil {
		t.Fatal(err)
	}
	// Interest travels over the leaf connections as they come up: publish until both
	// subscribers have a message.
	got := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		if err := atEdge.Publish("greet", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		for name, sub := range map[string]*nats.Subscription{"hub": hubSub, "cluster": oursSub} {
			if m, err := sub.NextMsg(200 * time.Millisecond); err == nil && string(m.Data) == "hello" {
				got[name] = true
			}
		}
	}
	if !got["hub"] || !got["cluster"] {
		t.Fatalf("a message from the edge reached %v; want the cluster and the hub", got)
	}
}
