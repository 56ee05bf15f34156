package dataplane_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneRestoreIntoThreeMembers restores an RDB of another server into the
// primary of a running three-member cluster, as the Restore job does while the
// supervisor holds still, then lets the supervisor go on: the primary keeps its role,
// both replicas end with exactly the backup's keys (a forced restore's old keys gone
// from them too) and follow what is written next.
func TestDataPlaneRestoreIntoThreeMembers(t *testing.T) {
	ctx := context.Background()
	conf := redisconf.Render(v1alpha1.RedisPersistence{}, nil)
	source := dbtest.StartRedises(t, "src", 1, conf)[0]
	sc := source.Client(t)
	if err := sc.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	fill(t, sc, 5000)
	want := dumpAll(t, sc, "k:*")
	target := backup.Dir{Root: t.TempDir()}
	pos, _ := storeRDB(t, target, "ns/src/b1", backup.Manifest{Engine: "redis"}, source.Addr())

	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprintf("force=%v", force), func(t *testing.T) {
			c := startCluster(t, dbtest.StartRedises(t, "r", 3, conf), 200*time.Millisecond)
			primary := c.server("r-0").Client(t)
			if force {
				for i := range 100 {
					primary.Set(ctx, fmt.Sprintf("old:%d", i), i, 0)
				}
				if err := primary.Do(ctx, "WAIT", 2, 5000).Err(); err != nil {
					t.Fatal(err)
				}
			}
			c.stopLoop() // held while the restore runs

			src := serveStoredRDB(t, target, "ns/src/b1", pos)
			if err := c.sup.Topology.Members[0].SeedFromRDB(ctx, "127.0.0.1", src.Port()); err != nil {
				t.Fatal(err)
			}
			if err := src.Sent(ctx); err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			var plan dataplane.Plan
			for deadline := start.Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				var err error
				if plan, _, err = c.sup.Step(ctx, ""); err != nil {
					t.Logf("step: %v", err)
				}
				if plan.State == dataplane.StateHealthy {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not healthy after the restore: %+v", plan)
				}
			}
			if p := c.sup.Primary(); p != "r-0" {
				t.Errorf("the primary moved to %s after the restore", p)
			}
			t.Logf("healthy %s after the restore", time.Since(start).Round(time.Millisecond))
			if err := primary.Set(ctx, "after", "restore", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := primary.Do(ctx, "WAIT", 2, 10000).Err(); err != nil {
				t.Fatal(err)
			}
			for _, s := range c.servers {
				cl := s.Client(t)
				got := dumpAll(t, cl, "k:*")
				if len(got) != len(want) {
					t.Fatalf("%s holds %d of the backup's %d keys", s.Name, len(got), len(want))
				}
				for k, v := range want {
					if got[k] != v {
						t.Fatalf("%s: %s is %s, want %s", s.Name, k, got[k], v)
					}
				}
				if old := dumpAll(t, cl, "old:*"); len(old) != 0 {
					t.Errorf("%s still holds %d keys the restore replaced", s.Name, len(old))
				}
				if v, _ := cl.Get(ctx, "after").Result(); v != "restore" {
					t.Errorf("%s did not receive the write after the restore", s.Name)
				}
			}
		})
	}
}
