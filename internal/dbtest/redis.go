package dbtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisPassword is requirepass and masterauth of every test server.
const RedisPassword = "dbtest-redis"

// Redis is one redis-server process on 127.0.0.1 with its own directory.
type Redis struct {
	Name    string
	Port    int
	Dir     string
	config  string
	logPath string
	process
}

// RequireRedis skips under -short and fails when redis-server is not installed; the
// data-plane make target installs it.
func RequireRedis(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (run `make dataplane-deps`): %v", err)
	}
}

// StartRedises starts n servers running config (a redis.conf as the operator renders
// it; its include of the credentials file is replaced by the test's own).
func StartRedises(t *testing.T, name string, n int, config string) []*Redis {
	t.Helper()
	RequireRedis(t)
	var out []*Redis
	for i := range n {
		r := &Redis{Name: fmt.Sprintf("%s-%d", name, i), Port: FreePort(t), Dir: t.TempDir(), config: config}
		if err := r.start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Kill)
		out = append(out, r)
	}
	return out
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Client is a client of the server, authenticated, closed with the test.
func (r *Redis) Client(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: RedisPassword, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// Restart starts a stopped or killed server again on its directory and port.
func (r *Redis) Restart(t *testing.T) {
	t.Helper()
	if r.Running() {
		r.Stop()
	}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
}

// Wipe removes a stopped server's data, as a member rebuilt on a new volume starts.
func (r *Redis) Wipe(t *testing.T) {
	t.Helper()
	if r.Running() {
		t.Fatalf("%s: wipe a stopped server only", r.Name)
	}
	for _, pattern := range []string{"dump.rdb", "appendonlydir", "*.aof"} {
		matches, _ := filepath.Glob(filepath.Join(r.Dir, pattern))
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (r *Redis) start() error {
	auth := filepath.Join(r.Dir, "auth.conf")
	if err := os.WriteFile(auth, []byte(fmt.Sprintf("requirepass %q\nmasterauth %q\n", RedisPassword, RedisPassword)), 0o600); err != nil {
		return err
	}
	// What differs between a pod and a loopback process replaces the pod's lines (dir
	// takes effect as it is read, so a later line cannot just override it).
	var conf strings.Builder
	for _, line := range strings.Split(r.config, "\n") {
		key, _, _ := strings.Cut(line, " ")
		if !slices.Contains([]string{"port", "bind", "dir", "logfile", "include"}, key) {
			conf.WriteString(line + "\n")
		}
	}
	r.logPath = filepath.Join(r.Dir, "redis.log")
	fmt.Fprintf(&conf, "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\ninclude %s\n", r.Port, r.Dir, r.logPath, auth)
	path := filepath.Join(r.Dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o600); err != nil {
		return err
	}
	if err := r.launch("redis-server", path); err != nil {
		return fmt.Errorf("%s: %w", r.Name, err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: RedisPassword, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(r.logPath)
			return fmt.Errorf("%s did not answer PING: %s", r.Name, tail(string(log), 2000))
		case <-r.done:
			log, _ := os.ReadFile(r.logPath)
			return fmt.Errorf("%s exited: %s", r.Name, tail(string(log), 2000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}
