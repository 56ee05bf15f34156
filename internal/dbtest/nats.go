package dbtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of every test cluster: the system account's, and the application's
// (with JetStream), as the operator's rendered configuration has them.
const (
	NATSSystemUser, NATSSystemPassword = "sys", "dbtest-sys"
	NATSAppUser, NATSAppPassword       = "app", "dbtest-app"
)

// NATSServer is one embedded nats-server of a JetStream cluster on loopback.
type NATSServer struct {
	Name   string
	Port   int
	config string
	*server.Server
}

// URL is the server's client URL.
func (s *NATSServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.Port) }

// StartNATSCluster starts n clustered nats-servers with JetStream, each with its own
// store directory, routed to each other on loopback.
func StartNATSCluster(t *testing.T, n int) []*NATSServer {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	clusterPorts := make([]int, n)
	var routes []string
	for i := range clusterPorts {
		clusterPorts[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", clusterPorts[i]))
	}
	servers := make([]*NATSServer, n)
	for i := range servers {
		s := &NATSServer{Name: fmt.Sprintf("n-%d", i), Port: freePort(t)}
		s.config = fmt.Sprintf(`server_name: %q
listen: "127.0.0.1:%d"
jetstream { store_dir: %q }
cluster { name: "dbtest", listen: "127.0.0.1:%d", routes: [%s] }
accounts {
  SYS: { users: [{user: %q, password: %q}] }
  APP: { jetstream: enabled, users: [{user: %q, password: %q}] }
}
system_account: SYS
`, s.Name, s.Port, t.TempDir(), clusterPorts[i], strings.Join(quoteAll(routes), ", "),
			NATSSystemUser, NATSSystemPassword, NATSAppUser, NATSAppPassword)
		servers[i] = s
	}
	// Start them together: the meta group needs a quorum before any is ready.
	for _, s := range servers {
		if err := s.start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
	}
	for _, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("%s did not start", s.Name)
		}
	}
	return servers
}

func (s *NATSServer) start() error {
	opts := &server.Options{}
	if err := opts.ProcessConfigString(s.config); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	s.Server = srv
	go srv.Start()
	return nil
}

// Restart starts a shut-down server again on its port and store.
func (s *NATSServer) Restart(t *testing.T) {
	t.Helper()
	s.Shutdown()
	s.WaitForShutdown()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatalf("%s did not restart", s.Name)
	}
}

// URLs lists every server's client URL, comma-separated, for clients that must reach
// whichever is up.
func URLs(servers []*NATSServer) string {
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.URL())
	}
	return strings.Join(urls, ",")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
