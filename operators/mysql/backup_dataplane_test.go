package mysql

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/operators/mysql/mycnf"
	"github.com/stowage/stowage/pkg/backup"
)

// TestDataPlaneBackupJob runs the backup and restore jobs as the operator's Jobs do,
// against a real MariaDB: a restore over the data the server holds is refused, and a
// forced one replaces it with the backup's. A corrupt or unfinished backup fails the
// restore, forced or not, and the server keeps its data.
func TestDataPlaneBackupJob(t *testing.T) {
	dbtest.RequireMariaDB(t)
	ctx := context.Background()
	srv := dbtest.StartMariaDBs(t, "job", 1, mycnf.Render(v1alpha1.FlavorMariaDB, nil))[0]
	accounts := dataplane.NewAccounts(dbtest.RootPassword, "operator-pw", "replication-pw", "monitor-pw")
	m, err := dataplane.Connect(srv.Name, srv.Addr(), dataplane.FlavorFor(v1alpha1.FlavorMariaDB), accounts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.State(ctx) // creates the operator's accounts
	if err := m.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	db := srv.DB(t)
	for _, s := range []string{"CREATE DATABASE shop", "CREATE TABLE shop.items (id INT PRIMARY KEY, name TEXT)", "INSERT INTO shop.items VALUES (1, 'one'), (2, 'two')"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	spec := backup.JobSpec{Engine: engineName, Cluster: "ns/db", Member: srv.Name, MemberAddr: srv.Addr(),
		Options: map[string]string{OptionFlavor: "mariadb"}, Location: "ns/db/b1", Target: backup.TargetSpec{Dir: t.TempDir()}}
	target, _ := spec.Target.Open(func(string) string { return "" })
	res, err := backup.RunBackup(ctx, spec, BackupEngine{}, "operator-pw", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Position == "" || res.Bytes == 0 {
		t.Errorf("result %+v", res)
	}
	if _, err := db.Exec("INSERT INTO shop.items VALUES (3, 'after the backup')"); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, "operator-pw", target, nil); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("a restore over data: %v", err)
	}
	spec.Force = true
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, "operator-pw", target, nil); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM shop.items").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 2 {
		t.Errorf("after a forced restore: %d rows", n)
	}

	// A flipped byte in the stored rows: even a forced restore fails, naming the file,
	// before it drops anything.
	if _, err := db.Exec("INSERT INTO shop.items VALUES (3, 'kept')"); err != nil {
		t.Fatal(err)
	}
	r, err := backup.Open(ctx, target, spec.Location)
	if err != nil {
		t.Fatal(err)
	}
	data := r.Files("data/")[0].Name
	p := filepath.Join(spec.Target.Dir, spec.Location, data)
	stored, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	stored[len(stored)/2] ^= 0x01
	if err := os.WriteFile(p, stored, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, "operator-pw", target, nil); !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), data) {
		t.Errorf("a forced restore of a corrupt backup: %v", err)
	}
	if n := rows(); n != 3 {
		t.Errorf("a failed restore touched the data: %d rows, want 3", n)
	}
	// Without its manifest the backup never finished.
	if err := os.Remove(filepath.Join(spec.Target.Dir, spec.Location, backup.ManifestName)); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.RunRestore(ctx, spec, BackupEngine{}, "operator-pw", target, nil); !errors.Is(err, backup.ErrIncomplete) {
		t.Errorf("a restore of a backup without a manifest: %v", err)
	}
	if n := rows(); n != 3 {
		t.Errorf("a failed restore touched the data: %d rows, want 3", n)
	}
}
