// Package dbtest runs real database servers on loopback for the data-plane tier:
// several mariadbd processes, each with its own data directory and port, that tests
// can stop, kill and restart. The servers run the configuration the operator renders
// for its pods, so the data-plane code meets the same server it meets in a cluster.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// RootPassword is the root password of every test server.
const RootPassword = "dbtest-root"

// MariaDB is one mariadbd process on 127.0.0.1.
type MariaDB struct {
	Name     string
	ServerID int
	Port     int
	DataDir  string
	config   string
	logPath  string
	process
}

// nextServerID gives every server of the process its own id, as replication requires
// of servers that replicate from each other.
var nextServerID atomic.Int32

func init() { nextServerID.Store(999) }

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// RequireMariaDB skips under -short and fails when mariadbd is not installed; the
// data-plane make target installs it.
func RequireMariaDB(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				t.Fatalf("%s is not installed: run `make dataplane`, which installs Debian's mariadb-server", bin)
			}
		}
	}
}

// StartMariaDBs starts n servers named name-0…name-(n-1) with the given [mysqld]
// configuration (the operator's rendered my.cnf) and stops them when the test ends.
func StartMariaDBs(t *testing.T, name string, n int, config string) []*MariaDB {
	t.Helper()
	RequireMariaDB(t)
	templateOnce.Do(func() { templateDir, templateErr = initTemplate() })
	if templateErr != nil {
		t.Fatalf("initialising a MariaDB data directory: %v", templateErr)
	}
	base := t.TempDir()
	servers := make([]*MariaDB, n)
	for i := range servers {
		m := &MariaDB{Name: fmt.Sprintf("%s-%d", name, i), ServerID: int(nextServerID.Add(1)), Port: FreePort(t), config: config}
		m.DataDir = filepath.Join(base, m.Name)
		if out, err := exec.Command("cp", "-a", templateDir, m.DataDir).CombinedOutput(); err != nil {
			t.Fatalf("copying the data directory template: %v: %s", err, out)
		}
		servers[i] = m
		t.Cleanup(func() { m.Kill() })
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.start() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return servers
}

// Addr is host:port of the server.
func (m *MariaDB) Addr() string { return fmt.Sprintf("127.0.0.1:%d", m.Port) }

// DB opens a connection pool to the server as root.
func (m *MariaDB) DB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", m.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DSN of the server as root.
func (m *MariaDB) DSN() string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = "root", RootPassword, "tcp", m.Addr()
	c.Timeout, c.ReadTimeout, c.WriteTimeout = 2*time.Second, 5*time.Second, 5*time.Second
	c.InterpolateParams = true
	return c.FormatDSN()
}

// Wipe replaces a stopped server's data directory with an empty, initialised one, as a
// rebuilt member starts.
func (m *MariaDB) Wipe(t *testing.T) {
	t.Helper()
	if m.Running() {
		t.Fatalf("%s: wipe a stopped server only", m.Name)
	}
	if err := os.RemoveAll(m.DataDir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", templateDir, m.DataDir).CombinedOutput(); err != nil {
		t.Fatalf("copying the data directory template: %v: %s", err, out)
	}
}

// Restart starts a stopped or killed server again on its data directory and port.
func (m *MariaDB) Restart(t *testing.T) {
	t.Helper()
	if m.Running() {
		m.Stop()
	}
	if err := m.start(); err != nil {
		t.Fatal(err)
	}
}

func (m *MariaDB) start() error {
	cnf := filepath.Join(m.DataDir, "test.cnf")
	// A temporary directory of its own, as a pod's /tmp is: servers sharing one
	// collide on their temporary tables' files.
	tmp := m.DataDir + ".tmp"
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	// The operator's options first; then what differs between a pod and a loopback
	// process (paths, port, identity), which the pod gets from its command line too.
	content := m.config + fmt.Sprintf(`
tmpdir = %s
datadir = %s
port = %d
bind_address = 127.0.0.1
socket = %s
pid_file = %s
server_id = %d
report_host = 127.0.0.1
report_port = %d
performance_schema = OFF
`, tmp, m.DataDir, m.Port, filepath.Join(m.DataDir, "mysqld.sock"), filepath.Join(m.DataDir, "mysqld.pid"), m.ServerID, m.Port)
	// Small, for servers that start fast, unless the test sizes them itself (the
	// benchmarks, as a production member would be).
	for _, opt := range []string{"innodb_buffer_pool_size = 32M", "innodb_log_file_size = 16M"} {
		if !strings.Contains(m.config, strings.Fields(opt)[0]) {
			content += opt + "\n"
		}
	}
	if !strings.Contains(content, "[mysqld]") {
		content = "[mysqld]\n" + content
	}
	if err := os.WriteFile(cnf, []byte(content), 0o600); err != nil {
		return err
	}
	m.logPath = filepath.Join(m.DataDir, "error.log")
	if err := m.launch(mariadbd(), "--defaults-file="+cnf, "--user=root", "--log-error="+m.logPath); err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", m.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		if err := db.PingContext(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(m.logPath)
			return fmt.Errorf("%s did not accept connections: %s", m.Name, tail(string(log), 2000))
		case <-m.done:
			log, _ := os.ReadFile(m.logPath)
			return fmt.Errorf("%s exited: %s", m.Name, tail(string(log), 2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// initTemplate creates one initialised data directory with the root password set;
// servers start from copies of it, which takes milliseconds instead of seconds.
func initTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "stowage-mariadb-template-")
	if err != nil {
		return "", err
	}
	// Its own temporary directory: bootstraps sharing /tmp collide on their temporary
	// tables' files (3 of 16 concurrent mariadb-install-db runs failed, as
	// `Unknown table 'mysql.tmp_user_sys'` or `Error on delete of
	// '/tmp/#sql-temptable-…'`; none of 12 with their own).
	data, tmp := filepath.Join(dir, "data"), filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", err
	}
	out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--tmpdir="+tmp, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mariadb-install-db: %w: %s", err, tail(string(out), 2000))
	}
	init := filepath.Join(dir, "init.sql")
	sqlText := fmt.Sprintf(`FLUSH PRIVILEGES;
DELETE FROM mysql.global_priv WHERE Host <> 'localhost';
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '%[1]s';
CREATE USER 'root'@'%%' IDENTIFIED BY '%[1]s';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION;
`, RootPassword)
	if err := os.WriteFile(init, []byte(sqlText), 0o600); err != nil {
		return "", err
	}
	// A bootstrap server reads the statements from stdin and exits; it starts without
	// grant tables, which FLUSH PRIVILEGES loads.
	cmd := exec.Command(mariadbd(), "--no-defaults", "--datadir="+data, "--tmpdir="+tmp, "--user=root", "--bootstrap", "--skip-networking")
	f, err := os.Open(init)
	if err != nil {
		return "", err
	}
	defer f.Close()
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("setting the root password: %w: %s", err, tail(string(out), 2000))
	}
	return data, nil
}

func mariadbd() string {
	if p, err := exec.LookPath("mariadbd"); err == nil {
		return p
	}
	return "/usr/sbin/mariadbd"
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
