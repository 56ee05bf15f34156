package dataplane

import (
	"context"
	"testing"
	"time"

	"github.com/stowage/stowage/internal/dbtest"
)

// TestDataPlaneLoadingRunsADeadlockVictimAgain makes a real server roll a loader's
// statement back to break a deadlock, as MariaDB does when two loaders start on the
// same empty table (execLoading), and proves the statement is run again and its rows
// arrive. The deadlock is made on purpose: another transaction, heavier by a thousand
// rows so that the server picks the loader as the victim, holds a row the loader's
// statement inserts next, and then waits for a row the statement already inserted.
func TestDataPlaneLoadingRunsADeadlockVictimAgain(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers := dbtest.StartMariaDBs(t, "dl", 1, "")
	db := servers[0].DB(t)
	mustExec(t, db, "CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY)", "CREATE TABLE app.heavy (id INT PRIMARY KEY)")

	other, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := execAll(ctx, other, "BEGIN", "INSERT INTO app.heavy SELECT seq FROM app.seq_1_to_1000", "INSERT INTO app.t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	loader, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer loader.Close()
	var loaderID int
	if err := loader.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&loaderID); err != nil {
		t.Fatal(err)
	}
	loaded := make(chan error, 1)
	go func() { loaded <- execLoading(ctx, loader, "INSERT INTO app.t VALUES (2), (1)") }()

	// The loader inserted 2 and waits for the other transaction's 1.
	for waiting := 0; waiting == 0; {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ? AND trx_state = 'LOCK WAIT'", loaderID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Now the other transaction waits for the loader's 2: a deadlock, and the server
	// rolls the lighter transaction, the loader's, back.
	if _, err := other.ExecContext(ctx, "INSERT INTO app.t VALUES (2)"); err != nil {
		t.Fatalf("the heavier transaction was the deadlock's victim: %v", err)
	}
	if _, err := other.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := <-loaded; err != nil {
		t.Fatalf("the loader's statement after a deadlock: %v", err)
	}
	if n := count(t, db, "app.t"); n != 2 {
		t.Errorf("app.t holds %d rows after the load, want the loader's 2", n)
	}
	var deadlocks int
	if err := db.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_DEADLOCKS'").Scan(&deadlocks); err != nil || deadlocks != 1 {
		t.Errorf("the server counted %d deadlocks (%v), want 1", deadlocks, err)
	}
}
