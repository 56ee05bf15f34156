package dataplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneRestoreIntoThreeMembers restores a backup of another cluster into the
// primary of a running three-member cluster, as the Restore job does while the
// supervisor holds still, and then lets the supervisor go on. Both replicas replicated
// the primary before the restore, and nothing of the load is in its binlog, so each must
// be seen as unable to follow and rebuilt from the restored primary; afterwards all
// three hold the backup's rows and replicate what comes next. Once into an empty
// cluster, once forced over one holding other data.
func TestDataPlaneRestoreIntoThreeMembers(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	target, location := backupOfAnotherCluster(t)

	r, err := backup.Open(ctx, target, location)
	if err != nil {
		t.Fatal(err)
	}
	backupSeq := seqOf(t, r.Manifest().Position)
	for _, tc := range []struct {
		name  string
		force bool
		// samePosition brings the cluster to the backup's sequence number first: its
		// replicas' position then equals the backup's, though their data does not.
		samePosition bool
	}{{"empty", false, false}, {"forced", true, false}, {"forced at the backup's position", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCluster(t, 250*time.Millisecond)
			primary := c.server("db-0").DB(t)
			if tc.force {
				// Data the restore replaces, replicated everywhere.
				mustExec(t, primary, "CREATE DATABASE app", "CREATE TABLE app.stale (id INT PRIMARY KEY)", "INSERT INTO app.stale VALUES (1), (2)")
			}
			if tc.samePosition {
				for id := 3; seqOf(t, c.sup.member("db-0").State(ctx).GTID) < backupSeq; id++ {
					mustExec(t, primary, "INSERT INTO app.stale VALUES ("+itoa(id)+")")
				}
				if at := c.sup.member("db-0").State(ctx).GTID; seqOf(t, at) != backupSeq {
					t.Fatalf("the cluster is at %s, past the backup's sequence number %d", at, backupSeq)
				}
			}
			if tc.force {
				waitCaughtUp(t, c, "db-1")
				waitCaughtUp(t, c, "db-2")
			}
			c.stopLoop() // the cluster is held while the restore runs

			r, err := backup.Open(ctx, target, location)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.sup.member("db-0").Load(ctx, r, LoadOptions{Parallel: 2, Force: tc.force}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			deadline := start.Add(90 * time.Second)
			var plan Plan
			for rebuilt := c.rebuilt(); len(rebuilt) < 2 || plan.State != StateHealthy; rebuilt = c.rebuilt() {
				if c.noticed("RebuildFailed") || time.Now().After(deadline) {
					t.Fatalf("the replicas did not follow the restored primary: rebuilt %v, %+v, %+v", rebuilt, plan, c.notices)
				}
				if plan, _, err = c.sup.Step(ctx, ""); err != nil {
					t.Logf("step: %v", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("both replicas rebuilt and healthy %s after the restore", time.Since(start).Round(time.Millisecond))

			mustExec(t, primary, "INSERT INTO app.orders (customer, amount) VALUES (2, 77)")
			for _, name := range []string{"db-1", "db-2"} {
				waitCaughtUp(t, c, name)
				replica := c.server(name).DB(t)
				for _, table := range []string{"app.customers", "app.orders", "app.bulk", "audit.log"} {
					if a, b := checksum(t, primary, table), checksum(t, replica, table); a != b {
						t.Errorf("%s differs on %s: primary %s, replica %s", table, name, a, b)
					}
				}
				if n := count(t, replica, "information_schema.TABLES WHERE TABLE_NAME = 'stale'"); n != 0 {
					t.Errorf("%s still holds the data the restore replaced", name)
				}
			}
			if n := count(t, primary, "app.orders"); n != 101 {
				t.Errorf("the primary holds %d orders, want the backup's 100 and one more", n)
			}
		})
	}
}

// backupOfAnotherCluster dumps a one-member cluster holding appSchema and 100 orders.
func backupOfAnotherCluster(t *testing.T) (backup.Target, string) {
	t.Helper()
	ctx := context.Background()
	servers, members := startMembers(t, "src", 1)
	if err := members[0].Promote(ctx); err != nil {
		t.Fatal(err)
	}
	db := servers[0].DB(t)
	mustExec(t, db, appSchema...)
	for i := 0; i < 100; i++ {
		mustExec(t, db, "INSERT INTO app.orders (customer, amount, placed) VALUES (1 + "+itoa(i%2)+", "+itoa(i)+".5, NOW(3))")
	}
	target := backup.Dir{Root: t.TempDir()}
	w, err := backup.NewWriter(target, "ns/src/b1", backup.Manifest{Engine: "mysql", Cluster: "ns/src", Source: members[0].Name})
	if err != nil {
		t.Fatal(err)
	}
	gtid, err := members[0].Dump(ctx, w, DumpOptions{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, gtid); err != nil {
		t.Fatal(err)
	}
	return target, "ns/src/b1"
}

// rebuilt names the members the supervisor reported rebuilt.
func (c *cluster) rebuilt() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, n := range c.notices {
		if n.Reason == "RebuildFinished" {
			names = append(names, strings.Fields(n.Message)[1])
		}
	}
	return names
}
