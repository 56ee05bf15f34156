package dbtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of every test cluster: the system account's, and the application's
// (with JetStream), as the operator's rendered configuration has them.
const (
	NATSSystemUser, NATSSystemPassword = "stowage-system", "dbtest-sys"
	NATSAppUser, NATSAppPassword       = "stowage", "dbtest-app"
)

// NATSServer is one nats-server process of a JetStream cluster on loopback, built
// from the version in go.mod (make dataplane-deps), so a test can SIGKILL it.
type NATSServer struct {
	Name   string
	Port   int
	dir    string
	config string
	process
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
	if _, err := os.Stat(natsServerBinary()); err != nil {
		t.Fatalf("nats-server %s is not built (run `make dataplane-deps`): %v", server.VERSION, err)
	}
	clusterPorts := make([]int, n)
	var routes []string
	for i := range clusterPorts {
		clusterPorts[i] = FreePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", clusterPorts[i]))
	}
	servers := make([]*NATSServer, n)
	for i := range servers {
		s := &NATSServer{Name: fmt.Sprintf("n-%d", i), Port: FreePort(t), dir: t.TempDir()}
		s.config = fmt.Sprintf(`server_name: %q
listen: "127.0.0.1:%d"
log_file: %q
jetstream { store_dir: %q }
cluster { name: "dbtest", listen: "127.0.0.1:%d", routes: [%s] }
accounts {
  SYS: { users: [{user: %q, password: %q}] }
  APP: { jetstream: enabled, users: [{user: %q, password: %q}] }
}
system_account: SYS
`, s.Name, s.Port, filepath.Join(s.dir, "nats.log"), filepath.Join(s.dir, "jetstream"), clusterPorts[i], strings.Join(quoteAll(routes), ", "),
			NATSSystemUser, NATSSystemPassword, NATSAppUser, NATSAppPassword)
		servers[i] = s
	}
	// Start them together: the meta group needs a quorum before any is ready.
	for _, s := range servers {
		if err := s.start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Kill)
	}
	for _, s := range servers {
		if err := s.waitListening(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return servers
}

// StartNATSServer starts one nats-server listening on port with the given
// configuration (which must use that port and may reference env, "NAME=value"
// entries the process gets). Rewrite changes the file under it.
func StartNATSServer(t *testing.T, port int, config string, env ...string) *NATSServer {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	if _, err := os.Stat(natsServerBinary()); err != nil {
		t.Fatalf("nats-server %s is not built (run `make dataplane-deps`): %v", server.VERSION, err)
	}
	s := &NATSServer{Name: fmt.Sprintf("n-%d", port), Port: port, dir: t.TempDir(), config: config}
	s.env = env
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	if err := s.waitListening(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

// Dir is the server's own directory (configuration, log, store).
func (s *NATSServer) Dir() string { return s.dir }

// Rewrite replaces the server's configuration file, as the kubelet does when the
// ConfigMap changes; the running server reads it on its next reload.
func (s *NATSServer) Rewrite(config string) error {
	s.config = config
	return os.WriteFile(filepath.Join(s.dir, "nats.conf"), []byte(config), 0o600)
}

func natsServerBinary() string {
	if bin := os.Getenv("STOWAGE_NATS_SERVER"); bin != "" {
		return bin
	}
	return filepath.Join(cacheDir(), "bin", "nats-server-v"+server.VERSION)
}

func (s *NATSServer) start() error {
	conf := filepath.Join(s.dir, "nats.conf")
	if err := s.Rewrite(s.config); err != nil {
		return err
	}
	if err := s.launch(natsServerBinary(), "-c", conf); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	return nil
}

func (s *NATSServer) waitListening(timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !s.Running() {
			break
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second); err == nil {
			c.Close()
			return nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "nats.log"))
	return fmt.Errorf("%s does not listen: %s", s.Name, tail(string(log), 2000))
}

// Restart starts a stopped or killed server again on its port and store.
func (s *NATSServer) Restart(t *testing.T) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if err := s.waitListening(30 * time.Second); err != nil {
		t.Fatal(err)
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
