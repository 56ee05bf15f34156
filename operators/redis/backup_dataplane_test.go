package redis

import (
	"context"
	"strings"
	"testing"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneBackupJob runs the backup and restore jobs as the operator's Jobs do,
// against real redis-servers: the backup is taken from one server, a restore into a
// server holding keys is refused, a forced one replaces them with the backup's.
func TestDataPlaneBackupJob(t *testing.T) {
	ctx := context.Background()
	servers := dbtest.StartRedises(t, "job", 2, redisconf.Render(v1alpha1.RedisPersistence{}, nil))
	src, dst := servers[0], servers[1]
	for _, s := range servers { // out of the parked start, as the supervisor would
		if err := s.Client(t).Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Client(t).Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := dst.Client(t).Set(ctx, "stale", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	spec := backup.JobSpec{Engine: engineName, Cluster: "ns/cache", Member: src.Name, MemberAddr: src.Addr(),
		Location: "ns/cache/b1", Target: backup.TargetSpec{Dir: t.TempDir()}}
	target, _ := spec.Target.Open(func(string) string { return "" })
	if _, err := backup.RunBackup(ctx, spec, BackupEngine{}, dbtest.RedisPassword, target, nil); err != nil {
		t.Fatal(err)
	}
	spec.Member, spec.MemberAddr = dst.Name, dst.Addr()
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.RedisPassword, target, nil); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("a restore over keys: %v", err)
	}
	spec.Force = true
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, dbtest.RedisPassword, target, nil); err != nil {
		t.Fatal(err)
	}
	c := dst.Client(t)
	if v, _ := c.Get(ctx, "greeting").Result(); v != "hello" || c.Exists(ctx, "stale").Val() != 0 {
		t.Errorf("after a forced restore: greeting %q, stale exists %d", v, c.Exists(ctx, "stale").Val())
	}
}
