package dataplane

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Seeding is how a member is rebuilt from another (an errant replica, a replica whose
// source no longer has the binlogs it needs, a new member of a cluster with history):
// a logical copy over SQL from one consistent snapshot of the source, after which the
// member replicates by GTID from exactly that snapshot's position. It is the one clone
// method that works on both flavors and needs nothing in the pods but the server:
// MySQL's CLONE plugin does not exist in MariaDB, and mariadb-backup/xtrabackup would
// need a side channel between pods. It copies the applications' schemas (tables with
// their rows, views, routines, triggers) and accounts; events and MariaDB sequences are
// not copied. The cost grows with the data, which suits the clusters this operator
// rebuilds automatically; docs/mysql.md says more.

// systemSchemas are never copied: every server has its own.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// systemAccounts are never copied: the server's own, and the operator's, which every
// member creates for itself.
var systemAccounts = []string{"mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema", "PUBLIC", "", AdminUser, OperatorUser, ReplicationUser, MonitorUser}

// seedBatchBytes bounds one INSERT, well below the default max_allowed_packet.
const seedBatchBytes = 4 << 20

// SeedFrom replaces everything the applications stored on m with a copy of source and
// leaves m positioned (not yet replicating) at the copy's GTID position, which it
// returns. m must not be the primary; it stays fenced throughout.
func (m *Member) SeedFrom(ctx context.Context, source *Member) (string, error) {
	if err := m.exec(ctx, append(m.flavor.SetReadOnly(true), m.flavor.StopReplica(), m.flavor.ResetReplica())...); err != nil {
		return "", fmt.Errorf("stopping replication before seeding: %w", err)
	}
	src, err := source.db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %w", source.Name, err)
	}
	defer src.Close()
	dst, err := m.db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %w", m.Name, err)
	}
	defer dst.Close()

	gtid, err := beginSnapshot(ctx, src, source.flavor)
	if err != nil {
		return "", fmt.Errorf("%s: taking a consistent snapshot: %w", source.Name, err)
	}
	defer src.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // read-only snapshot

	// The copy is this member's own history, not a transaction of its own: nothing of
	// it may reach its binlog.
	prepare := append([]string{"SET SESSION sql_log_bin = 0", "SET SESSION foreign_key_checks = 0", "SET SESSION unique_checks = 0"},
		m.flavor.AllowOperatorWrites()...)
	if err := execAll(ctx, dst, prepare...); err != nil {
		return "", fmt.Errorf("%s: preparing to seed: %w", m.Name, err)
	}
	cat, err := readCatalog(ctx, src)
	if err != nil {
		return "", fmt.Errorf("seeding %s from %s: %w", m.Name, source.Name, err)
	}
	c := copier{src: src, dst: dst}
	for _, step := range []struct {
		what string
		run  func(context.Context) error
	}{
		{"dropping the member's schemas", c.dropSchemas},
		{"copying accounts", func(ctx context.Context) error { return c.copyAccounts(ctx, cat) }},
		{"copying schemas and rows", func(ctx context.Context) error { return c.copySchemas(ctx, cat) }},
		{"copying routines", func(ctx context.Context) error { return run(ctx, dst, cat.routines) }},
		{"copying triggers", func(ctx context.Context) error { return run(ctx, dst, cat.triggers) }},
	} {
		if err := step.run(ctx); err != nil {
			return "", fmt.Errorf("seeding %s from %s: %s: %w", m.Name, source.Name, step.what, err)
		}
	}
	if err := execAll(ctx, dst, append(m.flavor.SetReadOnly(true), m.flavor.SeedPosition(gtid)...)...); err != nil {
		return "", fmt.Errorf("%s: positioning at %s: %w", m.Name, gtid, err)
	}
	return gtid, nil
}

func beginSnapshot(ctx context.Context, conn *sql.Conn, f Flavor) (string, error) {
	if err := execAll(ctx, conn, f.BeginSnapshot()...); err != nil {
		return "", err
	}
	var gtid string
	if err := conn.QueryRowContext(ctx, f.SnapshotGTID()).Scan(&gtid); err != nil {
		return "", fmt.Errorf("reading the snapshot's GTID position: %w", err)
	}
	return gtid, execAll(ctx, conn, f.EndSnapshotLock()...)
}

func execAll(ctx context.Context, conn *sql.Conn, stmts ...string) error {
	for i, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("statement %d of %d: %w", i+1, len(stmts), err)
		}
	}
	return nil
}

// copier copies from a snapshot connection to a target connection.
type copier struct {
	src, dst *sql.Conn
}

func (c copier) dropSchemas(ctx context.Context) error {
	schemas, err := userSchemas(ctx, c.dst)
	if err != nil {
		return err
	}
	for _, s := range schemas {
		if _, err := c.dst.ExecContext(ctx, "DROP DATABASE "+ident(s)); err != nil {
			return fmt.Errorf("dropping %s: %w", s, err)
		}
	}
	return nil
}

func (c copier) copyAccounts(ctx context.Context, cat catalog) error {
	for _, stmts := range cat.accounts {
		if err := execAll(ctx, c.dst, stmts...); err != nil {
			return fmt.Errorf("account %s: %w", stmts[0], err)
		}
	}
	return nil
}

func (c copier) copySchemas(ctx context.Context, cat catalog) error {
	if err := run(ctx, c.dst, cat.databases); err != nil {
		return err
	}
	for _, t := range cat.tables {
		if err := c.copyTable(ctx, t); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return run(ctx, c.dst, cat.views)
}

func (c copier) copyTable(ctx context.Context, t table) error {
	if err := run(ctx, c.dst, []scoped{{t.schema, t.create}}); err != nil {
		return err
	}
	rows, err := openRows(ctx, c.src, t)
	if err != nil {
		return err
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", rows.columns), ", ") + ")"
	var args []any
	var tuples []string
	size := 0
	flush := func() error {
		if len(tuples) == 0 {
			return nil
		}
		_, err := c.dst.ExecContext(ctx, rows.insert+strings.Join(tuples, ", "), args...)
		args, tuples, size = args[:0], tuples[:0], 0
		return err
	}
	err = rows.each(func(raw []sql.RawBytes) error {
		for _, v := range raw {
			if v == nil {
				args = append(args, nil)
				continue
			}
			args = append(args, bytes.Clone(v))
			size += len(v)
		}
		tuples = append(tuples, row)
		if size >= seedBatchBytes || len(args) >= 60000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func userSchemas(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := queryRows(ctx, conn, "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows {
		if name := r["Database"]; !slices.Contains(systemSchemas, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// queryOne reads the single row of a SHOW CREATE statement.
func queryOne(ctx context.Context, conn *sql.Conn, query string) (map[string]string, error) {
	rows, err := queryRows(ctx, conn, query)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%q returned nothing", query)
	}
	return rows[0], nil
}

// ident quotes a schema, table or column name.
func ident(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
