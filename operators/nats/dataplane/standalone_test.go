package dataplane

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stowage/stowage/internal/dbtest"
)

// TestDataPlaneLoneServerIsHealthy: a NATSCluster of one has no meta group; its
// server is its own, so the cluster counts as in sync (restarts and status need it)
// and its streams and consumers are read from it.
func TestDataPlaneLoneServerIsHealthy(t *testing.T) {
	port := dbtest.FreePort(t)
	s := dbtest.StartNATSServer(t, port, fmt.Sprintf(`server_name: solo
listen: "127.0.0.1:%d"
jetstream { store_dir: %q }
accounts { SYS: { users: [{user: %q, password: %q}] }, APP: { jetstream: enabled, users: [{user: %q, password: %q}] } }
system_account: SYS
`, port, filepath.Join(t.TempDir(), "js"), dbtest.NATSSystemUser, dbtest.NATSSystemPassword, dbtest.NATSAppUser, dbtest.NATSAppPassword))
	servers := []*dbtest.NATSServer{s}
	sys := systemClient(t, servers)
	_, js := appStream(t, servers, "SOLO", 1)
	if _, err := js.CreateOrUpdateConsumer(context.Background(), "SOLO", jetstream.ConsumerConfig{Durable: "one"}); err != nil {
		t.Fatal(err)
	}
	h := waitHealthy(t, sys, 10*time.Second, func(h Health) error {
		if h.MetaLeader != "solo" || len(h.Streams) != 1 || h.Streams[0].Leader != "solo" || h.Streams[0].Consumers != 1 {
			return fmt.Errorf("%+v", h)
		}
		return nil
	})
	if why := ScaleDownBlocker(h, "solo", h.Servers); why == "" {
		t.Error("the only server may leave?")
	}
}
