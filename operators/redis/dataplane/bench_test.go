package dataplane_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/operators/redis/redisconf"
)

// TestBenchBackup (make bench-backup) times an RDB backup over the replication
// protocol against `redis-cli --rdb`, which takes the same snapshot the same way, on
// one generated data set, and prints the ratio.
func TestBenchBackup(t *testing.T) {
	if os.Getenv("STOWAGE_BENCH_BACKUP") == "" {
		t.Skip("benchmark: run with make bench-backup")
	}
	ctx := context.Background()
	keys, _ := strconv.Atoi(os.Getenv("STOWAGE_BENCH_KEYS"))
	if keys == 0 {
		keys = 1_000_000
	}
	s := dbtest.StartRedises(t, "bench", 1, redisconf.Render(v1alpha1.RedisPersistence{}, nil))[0]
	c := s.Client(t)
	// Without the diskless-sync delay (5 s by default, waiting for more replicas to
	// share the fork), which both tools would otherwise wait out.
	for _, cmd := range [][]any{{"REPLICAOF", "NO", "ONE"}, {"CONFIG", "SET", "repl-diskless-sync-delay", "0"}} {
		if err := c.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Values that do not compress (the RDB compresses strings with LZF).
	rnd := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 375)
	p := c.Pipeline()
	for i := range keys {
		for j := range buf {
			buf[j] = byte(rnd.Uint32())
		}
		p.Set(ctx, fmt.Sprintf("key:%d", i), base64.StdEncoding.EncodeToString(buf), 0)
		if i%10000 == 9999 {
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.rdb")
	f, err := os.Create(ours)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := dataplane.FetchRDB(ctx, s.Addr(), dbtest.RedisPassword, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	oursTook := time.Since(start)

	peer := filepath.Join(dir, "peer.rdb")
	cmd := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "--rdb", peer)
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+dbtest.RedisPassword)
	start = time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --rdb: %v\n%s", err, out)
	}
	peerTook := time.Since(start)
	a, _ := os.Stat(ours)
	b, _ := os.Stat(peer)
	if out, err := exec.Command("redis-check-rdb", ours).CombinedOutput(); err != nil {
		t.Errorf("redis-check-rdb refuses our RDB: %v\n%s", err, out)
	}
	t.Logf("our RDB %d bytes, redis-cli's %d", a.Size(), b.Size())
	mib := float64(a.Size()) / (1 << 20)
	fmt.Printf("\nRDB backup of %d keys (%.0f MiB)\n", keys, mib)
	fmt.Printf("| tool | MiB/s | ours ÷ tool |\n|---|---|---|\n| stowage FetchRDB | %.1f | 1.00 |\n| redis-cli --rdb | %.1f | %.2f |\n",
		mib/oursTook.Seconds(), mib/peerTook.Seconds(), peerTook.Seconds()/oursTook.Seconds())
}
