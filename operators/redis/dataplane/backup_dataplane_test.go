package dataplane_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/backup"
)

// fill stores every kind of value, some with a TTL, some binary.
func fill(t *testing.T, c *redis.Client, n int) {
	t.Helper()
	ctx := context.Background()
	p := c.Pipeline()
	for i := range n {
		k := fmt.Sprintf("k:%d", i)
		switch i % 7 {
		case 0:
			p.Set(ctx, k, fmt.Sprintf("value-%d\x00\xff\r\n", i), 0)
		case 1:
			p.HSet(ctx, k, "a", i, "b", "two")
		case 2:
			p.RPush(ctx, k, "x", "y", i)
		case 3:
			p.SAdd(ctx, k, "m1", "m2", i)
		case 4:
			p.ZAdd(ctx, k, redis.Z{Score: float64(i) / 3, Member: "z"}, redis.Z{Score: -1, Member: "w"})
		case 5:
			p.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: map[string]any{"f": i}})
		case 6:
			p.Set(ctx, k, strings.Repeat("big", 1000), time.Hour)
		}
		if i%1000 == 999 {
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// dumpAll is every key's value, read by type (sets and hashes sorted: their order
// is the server's), and whether it expires.
func dumpAll(t *testing.T, c *redis.Client, match string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := c.Scan(ctx, 0, match, 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		var v any
		var err error
		switch typ := c.Type(ctx, k).Val(); typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			var h map[string]string
			h, err = c.HGetAll(ctx, k).Result()
			v = fmt.Sprint(h) // fmt sorts map keys
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		case "set":
			var m []string
			m, err = c.SMembers(ctx, k).Result()
			slices.Sort(m)
			v = m
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = c.XRange(ctx, k, "-", "+").Result()
		default:
			t.Fatalf("%s has type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		ttl, _ := c.PTTL(ctx, k).Result()
		out[k] = fmt.Sprintf("%q expires=%v", fmt.Sprint(v), ttl > 0)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDataPlaneRDBBackupRestoreRoundTrip takes an RDB over the replication protocol
// from a replica while the primary takes writes, stores it (zstd, checksummed),
// verifies it, and seeds a fresh server from it through the restore's replication
// source: every key comes back with its value and its expiry, and the
// snapshot's position is recorded.
func TestDataPlaneRDBBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	conf := redisconf.Render(v1alpha1.RedisPersistence{}, nil)
	c := startCluster(t, dbtest.StartRedises(t, "r", 2, conf), 200*time.Millisecond)
	primary := c.server("r-0").Client(t)
	fill(t, primary, 20000)
	if err := primary.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}
	c.stopLoop()
	replica := c.server("r-1")
	want := dumpAll(t, replica.Client(t), "k:*")

	// Writes to other keys go on during the backup.
	wctx, stopWriting := context.WithCancel(ctx)
	defer stopWriting()
	go func() {
		for i := 0; wctx.Err() == nil; i++ {
			primary.Set(wctx, fmt.Sprintf("live:%d", i), i, 0)
		}
	}()

	target := backup.Dir{Root: t.TempDir()}
	began := time.Now()
	pos, m := storeRDB(t, target, "ns/cache/b1", backup.Manifest{Engine: "redis", Cluster: "ns/cache", Source: replica.Name}, replica.Addr())
	stopWriting()
	t.Logf("RDB at %s from %s: %d bytes (%d stored) in %s", pos, replica.Name, m.RawBytes(), m.Bytes(), time.Since(began).Round(time.Millisecond))
	if pos.ReplID == "" || pos.Offset <= 0 {
		t.Errorf("position %+v", pos)
	}

	src := serveStoredRDB(t, target, "ns/cache/b1", pos)
	fresh := dbtest.StartRedises(t, "restored", 1, conf)[0]
	member := dataplane.Connect(fresh.Name, fresh.Addr(), dbtest.RedisPassword)
	defer member.Close()
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := member.SeedFromRDB(rctx, "127.0.0.1", src.Port()); err != nil {
		t.Fatal(err)
	}
	if err := src.Sent(rctx); err != nil {
		t.Fatal(err)
	}
	restored := fresh.Client(t)
	got := dumpAll(t, restored, "k:*")
	if len(got) != len(want) {
		t.Fatalf("%d keys restored, %d in the source", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s differs after the restore: %s, want %s", k, got[k], v)
		}
	}
	// Detached: a primary that takes writes.
	if err := restored.Set(ctx, "after", 1, 0).Err(); err != nil {
		t.Errorf("the restored server does not take writes: %v", err)
	}
}

// storeRDB takes an RDB from the server at addr into a backup at location, as the
// backup job does, and returns its position and manifest.
func storeRDB(t *testing.T, target backup.Target, location string, meta backup.Manifest, addr string) (dataplane.RDBPosition, backup.Manifest) {
	t.Helper()
	ctx := context.Background()
	w, err := backup.NewWriter(target, location, meta)
	if err != nil {
		t.Fatal(err)
	}
	f, err := w.Create(ctx, "dump.rdb")
	if err != nil {
		t.Fatal(err)
	}
	pos, err := dataplane.FetchRDB(ctx, addr, dbtest.RedisPassword, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(ctx, pos.String())
	if err != nil {
		t.Fatal(err)
	}
	return pos, m
}

// serveStoredRDB verifies a stored backup and serves its RDB as the restore job does,
// until the test ends.
func serveStoredRDB(t *testing.T, target backup.Target, location string, pos dataplane.RDBPosition) *dataplane.RDBSource {
	t.Helper()
	ctx := context.Background()
	r, err := backup.Open(ctx, target, location)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	rdb := r.Files("dump.rdb")[0]
	src, err := dataplane.ServeRDB("127.0.0.1:0", pos, rdb.RawSize, func() (io.ReadCloser, error) { return r.Open(ctx, rdb.Name) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}
