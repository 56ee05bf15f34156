package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/pkg/backup"
)

// TestBenchBackup (make bench-backup) measures backup and restore throughput on one
// generated data set against the peers Debian ships, in the same run: mydumper and
// myloader (4 threads, compressed), and mariadb-dump piped into the mariadb client.
// Throughput is the data set's size (the tables' data and index length) over the
// wall time. It prints a table with each peer's figure as a ratio of ours.
// benchServer is the servers' sizing in the benchmark.
var benchServer = map[string]string{"innodb_buffer_pool_size": "1G", "innodb_log_file_size": "256M"}

func TestBenchBackup(t *testing.T) {
	if os.Getenv("STOWAGE_BENCH_BACKUP") == "" {
		t.Skip("benchmark: run with make bench-backup")
	}
	for _, tool := range []string{"mydumper", "myloader", "mariadb-dump", "mariadb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make bench-backup installs it): %v", tool, err)
		}
	}
	ctx := context.Background()
	rows, _ := strconv.Atoi(os.Getenv("STOWAGE_BENCH_ROWS")) // per table
	if rows == 0 {
		rows = 900_000
	}
	// Sized as a production member would be, where the tests' servers are kept small
	// to start fast: a small buffer pool measures the disk, not the tools.
	servers, members := startMembersWith(t, "bench", 3, benchServer)
	for _, m := range members {
		m.State(ctx)
		if err := m.Promote(ctx); err != nil {
			t.Fatal(err)
		}
	}
	src := servers[0].DB(t)
	mustExec(t, src, "CREATE DATABASE bench")
	began := time.Now()
	for i := range 8 {
		mustExec(t, src, fmt.Sprintf("CREATE TABLE bench.t%d (id BIGINT PRIMARY KEY, a CHAR(32), b VARCHAR(64), c INT, d DATETIME, e TEXT, KEY (c))", i))
		// In batches: one statement per table would outlast the test connection's
		// read timeout.
		for from := 1; from <= rows; from += 50_000 {
			to := min(from+49_999, rows)
			mustExec(t, src, fmt.Sprintf("INSERT INTO bench.t%d SELECT seq, MD5(seq), SHA1(seq), seq %% 1000, NOW() - INTERVAL seq SECOND, "+
				"REPEAT(CHAR(65 + seq %% 26), 40 + seq %% 40) FROM bench.seq_%d_to_%d", i, from, to))
		}
	}
	var size int64
	if err := src.QueryRow("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench'").Scan(&size); err != nil {
		t.Fatal(err)
	}
	t.Logf("data set: 8 tables × %d rows, %.0f MiB, generated in %s", rows, float64(size)/(1<<20), time.Since(began).Round(time.Second))
	mbps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	dir := t.TempDir()
	rootArgs := func(s *dbtest.MariaDB) []string {
		return []string{"-h", "127.0.0.1", "-P", strconv.Itoa(s.Port), "-u", "root"}
	}
	run := func(name string, stdin, stdout string, args ...string) time.Duration {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+dbtest.RootPassword)
		if stdin != "" {
			f, err := os.Open(stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		if stdout != "" {
			f, err := os.Create(stdout)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdout = f
		}
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if stdout == "" {
			cmd.Stdout = &errOut
		}
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, errOut.String())
		}
		took := time.Since(start)
		t.Logf("%s %v: %s", name, args[len(args)-1], took.Round(time.Millisecond))
		return took
	}
	reset := func(db string) {
		mustExec(t, servers[1].DB(t), "DROP DATABASE IF EXISTS "+db)
	}

	// Ours: parallel readers from one snapshot, zstd; a parallel load.
	target := backup.Dir{Root: filepath.Join(dir, "stowage")}
	w, err := backup.NewWriter(target, "b", backup.Manifest{Engine: "mysql", Cluster: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	gtid, err := members[0].Dump(ctx, w, DumpOptions{Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(ctx, gtid)
	if err != nil {
		t.Fatal(err)
	}
	oursDump := time.Since(start)
	t.Logf("stowage dump: %s", oursDump.Round(time.Millisecond))
	r, err := backup.Open(ctx, target, "b")
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := r.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := members[2].Load(ctx, r, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	oursLoad := time.Since(start)
	t.Logf("stowage verify and load: %s", oursLoad.Round(time.Millisecond))

	// mydumper / myloader, 4 threads, compressed.
	mdDir := filepath.Join(dir, "mydumper")
	mydumper := run("mydumper", "", "", append(rootArgs(servers[0]), "-p", dbtest.RootPassword, "-B", "bench", "-t", "4", "-c", "-o", mdDir)...)
	reset("bench")
	myloader := run("myloader", "", "", append(rootArgs(servers[1]), "-p", dbtest.RootPassword, "-t", "4", "-d", mdDir)...)

	// mariadb-dump into a file, loaded by the mariadb client.
	dumpFile := filepath.Join(dir, "dump.sql")
	mdump := run("mariadb-dump", "", dumpFile, append(rootArgs(servers[0]), "--single-transaction", "--databases", "bench")...)
	reset("bench")
	mload := run("mariadb", dumpFile, "", rootArgs(servers[1])...)

	for i := range 8 {
		table := fmt.Sprintf("bench.t%d", i)
		if a, b := checksum(t, src, table), checksum(t, servers[2].DB(t), table); a != b {
			t.Errorf("%s differs after our restore", table)
		}
	}
	stored, _ := os.Stat(dumpFile)
	fmt.Printf("\nbackup and restore of %.0f MiB (MariaDB, 8 tables × %d rows); ours stored %.0f MiB (zstd)\n", float64(size)/(1<<20), rows, float64(m.Bytes())/(1<<20))
	fmt.Printf("| tool | backup MiB/s | restore MiB/s | backup: ours ÷ tool | restore: ours ÷ tool |\n|---|---|---|---|---|\n")
	fmt.Printf("| stowage (4 readers, zstd; restore verifies first, 8 loaders) | %.1f | %.1f | 1.00 | 1.00 |\n", mbps(oursDump), mbps(oursLoad))
	fmt.Printf("| mydumper/myloader 0.10 (-t 4 -c) | %.1f | %.1f | %.2f | %.2f |\n", mbps(mydumper), mbps(myloader), mydumper.Seconds()/oursDump.Seconds(), myloader.Seconds()/oursLoad.Seconds())
	fmt.Printf("| mariadb-dump / mariadb (%.0f MiB file) | %.1f | %.1f | %.2f | %.2f |\n", float64(stored.Size())/(1<<20), mbps(mdump), mbps(mload), mdump.Seconds()/oursDump.Seconds(), mload.Seconds()/oursLoad.Seconds())
}
