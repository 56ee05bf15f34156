package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Where a parked member "replicates" from: an address where nothing listens, so the
// member stays a read-only replica without a link (see the package comment).
const (
	ParkedHost = "127.0.0.1"
	ParkedPort = 1
)

// Member is one Redis server the supervisor talks to.
type Member struct {
	Name string
	// Addr is host:port, the same the other members use to reach it (its stable DNS
	// name in a cluster, a loopback port in the data-plane tests).
	Addr   string
	client *redis.Client
}

// Connect prepares a client for a member; no connection is made until it is used.
// Short timeouts and no retries: a member that does not answer within a pass is
// reported unreachable, not waited for.
func Connect(name, addr, password string) *Member {
	return &Member{Name: name, Addr: addr, client: redis.NewClient(&redis.Options{
		Addr: addr, Password: password, MaxRetries: -1, PoolSize: 2,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})}
}

// Close releases the member's connections.
func (m *Member) Close() error { return m.client.Close() }

// MemberState is what one pass saw of a member.
type MemberState struct {
	Name      string
	Reachable bool
	Error     string
	// Primary: the member is a master (takes writes).
	Primary bool
	// Parked: a replica of the parking address — restarted and not yet attached.
	Parked bool
	// Source is the host:port a replica replicates from.
	Source string
	// LinkUp: a replica's link to its source is up.
	LinkUp bool
	// Syncing: a replica is receiving a full copy of its source's data.
	Syncing bool
	// LastIO is how long ago a replica last heard from its source (-1s: no link). The
	// source pings every second (redis.conf), so more than a few seconds means the
	// source hangs or is cut off even while the link still counts as up.
	LastIO time.Duration
	// Offset in the replication stream: what a primary wrote, what a replica applied.
	Offset int64
	// ReplID is the replication history the member is on.
	ReplID string
	// MinReplicasToWrite as the member runs it.
	MinReplicasToWrite int
	// ConnectedReplicas a primary feeds.
	ConnectedReplicas int
	// GoodReplicas are the replicas a primary counts toward MinReplicasToWrite: those
	// that acknowledged within min-replicas-max-lag. A replica whose link is up may not
	// count yet (its first acknowledgement after a full sync is pending), and until
	// enough do the primary refuses writes.
	GoodReplicas int
}

// State reads the member's replication state.
func (m *Member) State(ctx context.Context) MemberState {
	s := MemberState{Name: m.Name}
	pipe := m.client.Pipeline()
	infoCmd := pipe.Info(ctx, "replication")
	cfgCmd := pipe.ConfigGet(ctx, "min-replicas-to-write")
	if _, err := pipe.Exec(ctx); err != nil {
		s.Error = err.Error()
		return s
	}
	i := parseInfo(infoCmd.Val())
	s.Reachable = true
	s.ReplID = i["master_replid"]
	s.MinReplicasToWrite, _ = strconv.Atoi(cfgCmd.Val()["min-replicas-to-write"])
	if i["role"] == "master" {
		s.Primary = true
		s.Offset = i.int("master_repl_offset")
		s.ConnectedReplicas = int(i.int("connected_slaves"))
		s.GoodReplicas = int(i.int("min_slaves_good_slaves"))
		return s
	}
	s.Source = net.JoinHostPort(i["master_host"], i["master_port"])
	s.Parked = s.Source == net.JoinHostPort(ParkedHost, strconv.Itoa(ParkedPort))
	s.LinkUp = i["master_link_status"] == "up"
	s.Syncing = i["master_sync_in_progress"] == "1"
	s.Offset = i.int("slave_repl_offset")
	s.LastIO = time.Duration(i.int("master_last_io_seconds_ago")) * time.Second
	return s
}

// ReplicateFrom makes the member a replica of the server at addr.
func (m *Member) ReplicateFrom(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("source address %q: %w", addr, err)
	}
	return m.client.ReplicaOf(ctx, host, port).Err()
}

// Park detaches the member and makes it a read-only replica of nothing: the fence for
// a member that takes writes and must not.
func (m *Member) Park(ctx context.Context) error {
	return m.ReplicateFrom(ctx, net.JoinHostPort(ParkedHost, strconv.Itoa(ParkedPort)))
}

// Promote makes the member a master. It keeps its replication history, so replicas
// of the previous primary continue with a partial resync.
func (m *Member) Promote(ctx context.Context) error {
	return m.client.ReplicaOf(ctx, "NO", "ONE").Err()
}

// RequireReplicas sets how many replicas must have acknowledged the stream within
// maxLag for the member to take writes as a primary.
func (m *Member) RequireReplicas(ctx context.Context, n int, maxLag time.Duration) error {
	lag := max(1, int(maxLag/time.Second))
	return m.client.Do(ctx, "CONFIG", "SET", "min-replicas-max-lag", strconv.Itoa(lag), "min-replicas-to-write", strconv.Itoa(n)).Err()
}

// PauseWrites holds every write command on the member for up to d; reads go on.
func (m *Member) PauseWrites(ctx context.Context, d time.Duration) error {
	return m.client.Do(ctx, "CLIENT", "PAUSE", strconv.FormatInt(d.Milliseconds(), 10), "WRITE").Err()
}

// ResumeWrites ends a PauseWrites.
func (m *Member) ResumeWrites(ctx context.Context) error {
	return m.client.Do(ctx, "CLIENT", "UNPAUSE").Err()
}

// WaitForOffset waits until the member has applied the stream up to offset.
func (m *Member) WaitForOffset(ctx context.Context, offset int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s := m.State(ctx)
		if s.Reachable && s.Offset >= offset {
			return nil
		}
		if time.Now().After(deadline) {
			if !s.Reachable {
				return errors.New(s.Error)
			}
			return fmt.Errorf("%s applied up to offset %d, want %d, after %s", m.Name, s.Offset, offset, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// quietDriver drops go-redis' own log lines: it reports every failed dial of an
// unreachable member on stderr, every pass, while the supervisor already reports
// reachability in status and Events.
type quietDriver struct{}

func (quietDriver) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietDriver{}) }

// KeyCount is how many keys the member holds in all its databases.
func (m *Member) KeyCount(ctx context.Context) (int64, error) {
	info, err := m.client.Info(ctx, "keyspace").Result()
	if err != nil {
		return 0, fmt.Errorf("%s: reading the keyspace: %w", m.Name, err)
	}
	var n int64
	for k, v := range parseInfo(info) {
		if !strings.HasPrefix(k, "db") {
			continue
		}
		// keys=N,expires=M,avg_ttl=T
		keys, _, _ := strings.Cut(strings.TrimPrefix(v, "keys="), ",")
		c, _ := strconv.ParseInt(keys, 10, 64)
		n += c
	}
	return n, nil
}
