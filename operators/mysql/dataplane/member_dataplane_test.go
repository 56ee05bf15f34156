package dataplane

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/mysql/mycnf"
)

// threeMembers starts three real MariaDB servers with the operator's configuration and
// connects to them as the operator would.
func threeMembers(t *testing.T) ([]*dbtest.MariaDB, []*Member) { return startMembers(t, "db", 3) }

// startMembers starts n servers named name-<i> and connects to each as the operator.
func startMembers(t *testing.T, name string, n int) ([]*dbtest.MariaDB, []*Member) {
	t.Helper()
	return startMembersWith(t, name, n, nil)
}

// startMembersWith starts members whose servers run with the given parameters, as
// spec.parameters would set them.
func startMembersWith(t *testing.T, name string, n int, parameters map[string]string) ([]*dbtest.MariaDB, []*Member) {
	t.Helper()
	servers := dbtest.StartMariaDBs(t, name, n, mycnf.Render(v1alpha1.FlavorMariaDB, parameters))
	members := make([]*Member, len(servers))
	for i, s := range servers {
		m, err := Connect(s.Name, s.Addr(), FlavorFor(v1alpha1.FlavorMariaDB), testAccounts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		members[i] = m
	}
	return servers, members
}

// testAccounts are the operator's accounts on test servers; root's password is the one
// the servers were initialised with, the others are created on first contact.
var testAccounts = NewAccounts(dbtest.RootPassword, "operator-pw", "replication-pw", "monitor-pw")

func sourceOf(s *dbtest.MariaDB) Source {
	return Source{Host: "127.0.0.1", Port: s.Port, User: testAccounts.Replication.User, Password: testAccounts.Replication.Password}
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDataPlaneReplicationAndPromotion: ordinal 0 becomes a writable primary, the
// others GTID replicas that refuse application writes; then member 1 is promoted and
// the others follow it without losing or duplicating a row.
func TestDataPlaneReplicationAndPromotion(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	servers, members := threeMembers(t)

	if err := members[0].Promote(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range members[1:] {
		if err := m.ReplicateFrom(ctx, sourceOf(servers[0]), false); err != nil {
			t.Fatal(err)
		}
	}
	primary := servers[0].DB(t)
	mustExec(t, primary,
		"CREATE DATABASE app",
		"CREATE TABLE app.orders (id INT PRIMARY KEY, note VARCHAR(32))",
		"CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'",
		"GRANT ALL PRIVILEGES ON app.* TO 'app'@'%'",
	)
	for i := 1; i <= 100; i++ {
		mustExec(t, primary, fmt.Sprintf("INSERT INTO app.orders VALUES (%d, 'first')", i))
	}
	head := members[0].State(ctx)
	if !head.Reachable || head.Replica || head.ReadOnly || head.GTID == "" {
		t.Fatalf("primary state %+v", head)
	}
	for i, m := range members[1:] {
		if err := m.WaitForGTID(ctx, head.GTID, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		st := m.State(ctx)
		if !st.Replica || !st.IORunning || !st.SQLRunning || !st.ReadOnly || st.SourcePort != servers[0].Port || st.GTID != head.GTID {
			t.Errorf("replica %d state %+v", i+1, st)
		}
		if n := count(t, servers[i+1].DB(t), "app.orders"); n != 100 {
			t.Errorf("replica %d has %d rows, want 100", i+1, n)
		}
	}

	// An application account cannot write to a replica.
	app, err := sql.Open("mysql", fmt.Sprintf("app:app-pw@tcp(%s)/app", servers[1].Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.Exec("INSERT INTO orders VALUES (1000, 'stray')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write to a replica was not refused as read-only: %v", err)
	}
	// Nor can the users' administrator account: MariaDB's SUPER would write through
	// read_only, so the operator takes it away.
	if _, err := servers[1].DB(t).Exec("INSERT INTO app.orders VALUES (1001, 'stray')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write by root to a replica was not refused as read-only: %v", err)
	}

	// Promote member 1: fence the old primary, let 1 catch up, open it, repoint the rest.
	if err := members[0].Fence(ctx); err != nil {
		t.Fatal(err)
	}
	fenced := members[0].State(ctx)
	if err := members[1].WaitForGTID(ctx, fenced.GTID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := members[1].Promote(ctx); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		if err := members[i].ReplicateFrom(ctx, sourceOf(servers[1]), false); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, servers[1].DB(t), "INSERT INTO app.orders VALUES (101, 'after promotion')")
	head = members[1].State(ctx)
	for _, i := range []int{0, 2} {
		if err := members[i].WaitForGTID(ctx, head.GTID, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if n := count(t, servers[i].DB(t), "app.orders"); n != 101 {
			t.Errorf("member %d has %d rows after the promotion, want 101", i, n)
		}
		if st := members[i].State(ctx); !st.Replica || st.SourcePort != servers[1].Port || !st.ReadOnly || st.LastSQLError != "" {
			t.Errorf("member %d state %+v", i, st)
		}
	}
}

// TestDataPlaneUnreachableMember: a killed member reads as unreachable, quickly.
func TestDataPlaneUnreachableMember(t *testing.T) {
	dbtest.RequireMariaDB(t)
	servers, members := threeMembers(t)
	servers[2].Kill()
	start := time.Now()
	st := members[2].State(context.Background())
	if st.Reachable || st.Error == "" {
		t.Errorf("a killed member reads as %+v", st)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("reading a dead member took %s; health checks must not stall", d)
	}
}

// TestDataPlaneFenceEndsAStuckCommit fences a primary whose commit waits for a
// semi-sync acknowledgement that will not come (no replica attached): read_only
// waits for that commit, so the fence must end the session holding it instead of
// waiting with it.
func TestDataPlaneFenceEndsAStuckCommit(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	_, members := threeMembers(t)
	m := members[0]
	if err := m.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.SemiSync(ctx, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	app, err := sql.Open("mysql", fmt.Sprintf("root:%s@tcp(%s)/", dbtest.RootPassword, m.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	mustExec(t, app, "SET GLOBAL rpl_semi_sync_master_enabled = OFF", "CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY)")
	if err := m.SemiSync(ctx, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	stuck := make(chan error, 1)
	go func() { _, err := app.Exec("INSERT INTO app.t VALUES (1)"); stuck <- err }()
	time.Sleep(500 * time.Millisecond)
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	started := time.Now()
	if err := m.Fence(fctx); err != nil {
		t.Fatalf("fencing with a commit stuck on semi-sync: %v", err)
	}
	if st := m.State(ctx); !st.ReadOnly {
		t.Errorf("not read-only after the fence: %+v", st)
	}
	select {
	case err := <-stuck:
		t.Logf("the stuck commit ended with %v; fence took %s", err, time.Since(started).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("the stuck session was not ended")
	}
}
