package dataplane

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/mysql/mycnf"
)

// operatorDB connects to a test server as the operator's account.
func operatorDB(t *testing.T, s *dbtest.MariaDB) *sql.DB {
	t.Helper()
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = testAccounts.Operator.User, testAccounts.Operator.Password, "tcp", s.Addr()
	c.MultiStatements = true
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appSchema is what an application might keep: foreign keys, a generated column,
// NULLs, binary and multi-byte data, a view across schemas, a trigger, a procedure
// and an account of its own.
var appSchema = []string{
	"CREATE DATABASE app",
	"CREATE DATABASE audit",
	"CREATE TABLE app.customers (id INT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4, photo BLOB, note TEXT NULL)",
	"CREATE TABLE app.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2), " +
		"total DECIMAL(12,2) AS (amount * 1.2) STORED, placed DATETIME(3), FOREIGN KEY (customer) REFERENCES app.customers (id))",
	"CREATE TABLE audit.log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(64))",
	"CREATE TABLE app.writes (id INT PRIMARY KEY)",
	"CREATE TABLE app.bulk (id INT PRIMARY KEY, payload VARCHAR(100))",
	"INSERT INTO app.bulk SELECT seq, REPEAT('x', 100) FROM app.seq_1_to_50000",
	"CREATE VIEW audit.big_orders AS SELECT o.id, c.name FROM app.orders o JOIN app.customers c ON c.id = o.customer WHERE o.amount > 50",
	"CREATE TRIGGER app.orders_audit AFTER INSERT ON app.orders FOR EACH ROW INSERT INTO audit.log (what) VALUES (CONCAT('order ', NEW.id))",
	"CREATE PROCEDURE app.order_count(OUT n INT) SELECT COUNT(*) INTO n FROM app.orders",
	"CREATE USER 'shop'@'%' IDENTIFIED BY 'shop-pw'",
	"GRANT SELECT, INSERT ON app.* TO 'shop'@'%'",
	"INSERT INTO app.customers VALUES (1, 'Zoë Ünïcode ✓', UNHEX('00FF10'), NULL), (2, 'Bob', NULL, 'it''s \\\\ quoted')",
}

// TestDataPlaneErrantReplicaIsRebuilt: a replica that wrote a transaction of its own
// is detected as errant, never repointed as it is, and rebuilt from the primary by a
// seed taken while writes continue; afterwards it holds exactly the primary's data.
func TestDataPlaneErrantReplicaIsRebuilt(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	c := startCluster(t, 250*time.Millisecond)
	c.stopLoop() // stepped by hand below
	primary := c.server("db-0").DB(t)
	mustExec(t, primary, appSchema...)
	for i := 0; i < 300; i++ {
		mustExec(t, primary, "INSERT INTO app.orders (customer, amount, placed) VALUES (1 + "+itoa(i%2)+", "+itoa(i)+".5, NOW(3))")
	}
	waitCaughtUp(t, c, "db-2")

	// db-2 stops replicating and commits a transaction of its own.
	mustExec(t, operatorDB(t, c.server("db-2")), "STOP SLAVE", "INSERT INTO app.writes VALUES (-1)")
	plan, _, err := c.sup.Step(ctx, "")
	if err != nil || plan.Diverged["db-2"] == "" || len(plan.Rebuild) != 1 || slices.Contains(plan.Repoint, "db-2") {
		t.Fatalf("the errant replica was not recognised: %+v %v", plan, err)
	}
	t.Logf("detected: %s", plan.Diverged["db-2"])

	// Writes go on while the rebuild runs; they must all reach db-2 afterwards.
	wctx, stopWriting := context.WithCancel(ctx)
	written := make(chan int)
	go func() {
		n := 0
		for ; wctx.Err() == nil; n++ {
			if _, err := primary.Exec("INSERT INTO app.writes VALUES (?)", n+1); err != nil {
				break
			}
		}
		written <- n
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !c.noticed("RebuildFinished") {
		if c.noticed("RebuildFailed") || time.Now().After(deadline) {
			t.Fatalf("no rebuild: %+v", c.notices)
		}
		if _, _, err := c.sup.Step(ctx, ""); err != nil {
			t.Logf("step: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopWriting()
	t.Logf("%d rows written during the rebuild", <-written)
	for plan.State != StateHealthy {
		if plan, _, err = c.sup.Step(ctx, ""); time.Now().After(deadline) {
			t.Fatalf("not healthy after the rebuild: %+v %v", plan, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitCaughtUp(t, c, "db-2")

	rebuilt := c.server("db-2").DB(t)
	for _, table := range []string{"app.customers", "app.orders", "app.writes", "app.bulk", "audit.log"} {
		if a, b := checksum(t, primary, table), checksum(t, rebuilt, table); a != b {
			t.Errorf("%s differs after the rebuild: primary %s, db-2 %s", table, a, b)
		}
	}
	if n := count(t, rebuilt, "app.writes WHERE id = -1"); n != 0 {
		t.Errorf("the errant row survived the rebuild")
	}
	if n := count(t, rebuilt, "audit.big_orders"); n != count(t, primary, "audit.big_orders") || n == 0 {
		t.Errorf("the view differs: %d rows", n)
	}
	var grants string
	if err := rebuilt.QueryRow("SHOW GRANTS FOR 'shop'@'%'").Scan(&grants); err != nil || !strings.Contains(grants, "shop") {
		t.Errorf("the application account was not copied: %q %v", grants, err)
	}
	var procs, triggers int
	_ = rebuilt.QueryRow("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app'").Scan(&procs)
	_ = rebuilt.QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app'").Scan(&triggers)
	if procs != 1 || triggers != 1 {
		t.Errorf("routines %d, triggers %d on the rebuilt member, want 1 and 1", procs, triggers)
	}
	// The rebuilt member replicates what comes next, trigger included.
	mustExec(t, primary, "INSERT INTO app.orders (customer, amount) VALUES (2, 99)")
	waitCaughtUp(t, c, "db-2")
	if a, b := checksum(t, primary, "audit.log"), checksum(t, rebuilt, "audit.log"); a != b {
		t.Errorf("audit.log differs after a new order")
	}
}

func (c *cluster) noticed(reason string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.notices {
		if n.Reason == reason {
			return true
		}
	}
	return false
}

// waitCaughtUp waits until the member applied everything the primary has now.
func waitCaughtUp(t *testing.T, c *cluster, name string) {
	t.Helper()
	head := c.sup.member(c.sup.Primary()).State(context.Background())
	if err := c.sup.member(name).WaitForGTID(context.Background(), head.GTID, 30*time.Second); err != nil {
		t.Fatalf("%s did not catch up with %s: %v", name, head.GTID, err)
	}
}

// checksum hashes a table's rows as the server renders them, in primary key order.
// CHECKSUM TABLE is no use here: it hashes the storage format, which differs between
// a table written row by row and the same rows copied in bulk.
func checksum(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	h := sha256.New()
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range raw {
			if v == nil {
				h.Write([]byte{0xff})
			}
			fmt.Fprintf(h, "%d:%s|", len(v), v)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d rows, sha256 %x", n, h.Sum(nil))
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDataPlaneNewMemberCatchesUpAfterBinlogsWerePurged: a member added to a cluster
// whose primary no longer has its early binlogs cannot replicate from the start; the
// supervisor seeds it from the primary and it then follows like any replica.
func TestDataPlaneNewMemberCatchesUpAfterBinlogsWerePurged(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	c := startCluster(t, 250*time.Millisecond)
	c.stopLoop()
	primary := c.server("db-0").DB(t)
	mustExec(t, primary, appSchema...)
	waitCaughtUp(t, c, "db-1")
	waitCaughtUp(t, c, "db-2")
	purgeBinlogs(t, operatorDB(t, c.server("db-0")))

	// The new member, as a fourth in the supervisor's view.
	fresh := dbtest.StartMariaDBs(t, "new", 1, mycnf.Render(v1alpha1.FlavorMariaDB, nil))[0]
	m, err := Connect(fresh.Name, fresh.Addr(), FlavorFor(v1alpha1.FlavorMariaDB), testAccounts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c.servers = append(c.servers, fresh)
	c.sup.Topology.Members = append(c.sup.Topology.Members, m)

	deadline := time.Now().Add(15 * time.Second)
	var plan Plan
	for !c.noticed("RebuildFinished") || plan.State != StateHealthy {
		if c.noticed("RebuildFailed") || time.Now().After(deadline) {
			t.Fatalf("the new member did not join: %+v %+v %+v", plan, c.notices, m.State(ctx))
		}
		if plan, _, err = c.sup.Step(ctx, ""); err != nil {
			t.Logf("step: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustExec(t, primary, "INSERT INTO app.writes VALUES (1)")
	waitCaughtUp(t, c, "new-0")
	for _, table := range []string{"app.customers", "app.orders", "app.writes", "app.bulk", "audit.log"} {
		if a, b := checksum(t, primary, table), checksum(t, fresh.DB(t), table); a != b {
			t.Errorf("%s differs on the new member: primary %s, new %s", table, a, b)
		}
	}
}

// purgeBinlogs starts a new binlog and purges every older one, as expire_logs_days
// would in time. A binlog still needed for crash recovery is purged once it is not.
func purgeBinlogs(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "FLUSH BINARY LOGS")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var logs []string
		rows, err := db.Query("SHOW BINARY LOGS")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var size sql.NullInt64
			if err := rows.Scan(&name, &size); err != nil {
				t.Fatal(err)
			}
			logs = append(logs, name)
		}
		rows.Close()
		if len(logs) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("binlogs not purged: %v", logs)
		}
		mustExec(t, db, "PURGE BINARY LOGS TO '"+logs[len(logs)-1]+"'")
		time.Sleep(200 * time.Millisecond)
	}
}
