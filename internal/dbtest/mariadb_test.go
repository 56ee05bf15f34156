package dbtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataPlaneMariaDBHelper(t *testing.T) {
	servers := StartMariaDBs(t, "db", 2, "[mysqld]\nlog_bin = binlog\nbinlog_format = ROW\n")
	db := servers[1].DB(t)
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(version, "MariaDB") {
		t.Errorf("version %q", version)
	}
	var id int
	if err := db.QueryRow("SELECT @@server_id").Scan(&id); err != nil || id != servers[1].ServerID {
		t.Errorf("server_id %d (%v), want %d", id, err, servers[1].ServerID)
	}
	for _, s := range []string{"CREATE DATABASE keep", "CREATE TABLE keep.t (id INT PRIMARY KEY)", "INSERT INTO keep.t VALUES (1)"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	servers[1].Kill()
	if servers[1].Running() {
		t.Fatal("still running after Kill")
	}
	servers[1].Restart(t)
	var n int
	if err := servers[1].DB(t).QueryRow("SELECT COUNT(*) FROM keep.t").Scan(&n); err != nil || n != 1 {
		t.Errorf("after a crash and restart: %d rows (%v), want 1", n, err)
	}
}

// TestDataPlaneMariaDBTemplatesSideBySide initialises four data directories at once,
// as test packages running side by side do. Bootstraps that shared /tmp collided on
// their temporary tables' files (`.ci/run` failed on it; 3 of 16 such runs failed).
func TestDataPlaneMariaDBTemplatesSideBySide(t *testing.T) {
	RequireMariaDB(t)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			dir, err := initTemplate()
			if err == nil {
				err = os.RemoveAll(filepath.Dir(dir))
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
