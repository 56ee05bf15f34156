package dataplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneBackupRestoreRoundTrip backs a real MariaDB up while writes go on,
// restores the backup into a fresh server, and compares every table's rows, the view,
// the routine, the trigger and the account. The backup holds exactly the writes its
// GTID position counts (three parallel readers share one snapshot), and that position
// is the restored server's. A byte flipped in a stored file is caught before anything is
// loaded, and a restore into a server that holds data is refused.
func TestDataPlaneBackupRestoreRoundTrip(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	servers, members := startMembers(t, "bk", 2)
	for _, m := range members {
		m.State(ctx) // creates the operator's accounts
	}
	source, fresh := members[0], members[1]
	if err := source.Promote(ctx); err != nil { // writable; the fresh one stays fenced, as a restore target is
		t.Fatal(err)
	}
	db := servers[0].DB(t)
	mustExec(t, db, appSchema...)
	mustExec(t, db, "CREATE TABLE app.kinds (id INT PRIMARY KEY, b BIT(5), j JSON, e ENUM('a','b'), f DOUBLE, d DATE, bin VARBINARY(8), z INT UNSIGNED ZEROFILL)",
		`INSERT INTO app.kinds VALUES (0, b'10101', '{"k": [1, "two"]}', 'b', -1.5e-7, '2026-11-22', UNHEX('00275C0A0D1A'), 7), (1, NULL, NULL, NULL, NULL, NULL, '', NULL)`)
	for i := 0; i < 200; i++ {
		mustExec(t, db, "INSERT INTO app.orders (customer, amount, placed) VALUES (1 + "+itoa(i%2)+", "+itoa(i)+".5, NOW(3))")
	}

	// Writes go on during the backup, one transaction (one GTID) per row: the backup
	// must hold exactly the rows its GTID position says.
	var base string
	if err := db.QueryRow("SELECT @@gtid_binlog_pos").Scan(&base); err != nil {
		t.Fatal(err)
	}
	wctx, stopWriting := context.WithCancel(ctx)
	writerDone := make(chan int)
	go func() {
		n := 0
		for ; wctx.Err() == nil; n++ {
			if _, err := db.Exec("INSERT INTO app.writes VALUES (?)", n+1); err != nil {
				break
			}
		}
		writerDone <- n
	}()
	defer stopWriting()

	target := backup.Dir{Root: t.TempDir()}
	w, err := backup.NewWriter(target, "ns/db/b1", backup.Manifest{Engine: "mysql", Cluster: "ns/db", Source: source.Name})
	if err != nil {
		t.Fatal(err)
	}
	// Small chunks and statements, so that tables span several files and statements.
	gtid, err := source.Dump(ctx, w, DumpOptions{Parallel: 3, ChunkBytes: 256 << 10, StatementBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(ctx, gtid)
	if err != nil {
		t.Fatal(err)
	}
	stopWriting()
	written := <-writerDone
	chunks := 0
	for _, f := range m.Files {
		if strings.HasPrefix(f.Name, "data/app/bulk.") {
			chunks++
		}
	}
	t.Logf("backup at %s: %d files, %d bytes stored of %d; app.bulk in %d chunks", gtid, len(m.Files), m.Bytes(), m.RawBytes(), chunks)
	if gtid == "" || chunks < 2 {
		t.Fatalf("gtid %q, %d chunks of app.bulk", gtid, chunks)
	}

	r, err := backup.Open(ctx, target, "ns/db/b1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Load(ctx, r, LoadOptions{Parallel: 3}); err != nil {
		t.Fatal(err)
	}
	restored := servers[1].DB(t)
	inBackup := count(t, restored, "app.writes")
	t.Logf("%d rows written during the backup, %d of them before its snapshot", written, inBackup)
	if want := seqOf(t, gtid) - seqOf(t, base); inBackup != want || count(t, restored, "app.writes WHERE id > "+itoa(inBackup)) != 0 {
		t.Errorf("the backup holds %d rows of app.writes; its GTID position says %d", inBackup, want)
	}
	for _, table := range []string{"app.customers", "app.orders", "app.bulk", "app.kinds", "audit.log"} {
		if a, b := checksum(t, db, table), checksum(t, restored, table); a != b {
			t.Errorf("%s differs after the restore: source %s, restored %s", table, a, b)
		}
	}
	if n := count(t, restored, "audit.big_orders"); n != count(t, db, "audit.big_orders") || n == 0 {
		t.Errorf("the view differs: %d rows", n)
	}
	var grants string
	if err := restored.QueryRow("SHOW GRANTS FOR 'shop'@'%'").Scan(&grants); err != nil || !strings.Contains(grants, "shop") {
		t.Errorf("the application account was not restored: %q %v", grants, err)
	}
	var procs, triggers int
	_ = restored.QueryRow("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app'").Scan(&procs)
	_ = restored.QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app'").Scan(&triggers)
	if procs != 1 || triggers != 1 {
		t.Errorf("routines %d, triggers %d after the restore, want 1 and 1", procs, triggers)
	}
	// At the backup's position, and at the restore's marker in a domain of its own.
	var pos string
	if err := restored.QueryRow("SELECT @@gtid_slave_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	at, err := ParsePosition(pos)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ParsePosition(gtid)
	if len(at) != 2 || at[0] != want[0] {
		t.Errorf("restored server at %q, the backup at %q", pos, gtid)
	}
	// The trigger fires on new rows, not on the loaded ones (audit.log matched above).
	if err := fresh.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	before := count(t, restored, "audit.log")
	mustExec(t, restored, "INSERT INTO app.orders (customer, amount) VALUES (2, 99)")
	if after := count(t, restored, "audit.log"); after != before+1 {
		t.Errorf("the restored trigger logged %d rows for one order", after-before)
	}

	// A second restore into the same server is refused: it holds data now.
	if err := fresh.Load(ctx, r, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a restore into a server with data: %v", err)
	}

	// One flipped byte in the biggest data file: Verify names it.
	var biggest backup.File
	for _, f := range m.Files {
		if f.Size > biggest.Size {
			biggest = f
		}
	}
	p := filepath.Join(target.Root, "ns/db/b1", biggest.Name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x20
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(ctx); !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), biggest.Name) {
		t.Errorf("a flipped byte: %v", err)
	}
}

// seqOf is the sequence number of a single-domain MariaDB GTID position.
func seqOf(t *testing.T, pos string) int {
	t.Helper()
	n, err := strconv.Atoi(pos[strings.LastIndex(pos, "-")+1:])
	if err != nil {
		t.Fatalf("GTID position %q: %v", pos, err)
	}
	return n
}
