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
	c := copier{src: src, dst: dst}
	for _, step := range []struct {
		what string
		run  func(context.Context) error
	}{
		{"dropping the member's schemas", c.dropSchemas},
		{"copying accounts", c.copyAccounts},
		{"copying schemas and rows", c.copySchemas},
		{"copying routines", c.copyRoutines},
		{"copying triggers", c.copyTriggers},
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

func (c copier) copyAccounts(ctx context.Context) error {
	accounts, err := queryRows(ctx, c.src, "SELECT User, Host FROM mysql.user")
	if err != nil {
		return err
	}
	for _, a := range accounts {
		user, host := a["User"], a["Host"]
		if slices.Contains(systemAccounts, user) {
			continue
		}
		account := quoteString(user) + "@" + quoteString(host)
		create, err := queryOne(ctx, c.src, "SHOW CREATE USER "+account)
		if err != nil {
			return err
		}
		grants, err := queryRows(ctx, c.src, "SHOW GRANTS FOR "+account)
		if err != nil {
			return err
		}
		stmts := []string{"DROP USER IF EXISTS " + account, firstColumn(create)}
		for _, g := range grants {
			stmts = append(stmts, firstColumn(g))
		}
		if err := execAll(ctx, c.dst, stmts...); err != nil {
			return fmt.Errorf("account %s: %w", account, err)
		}
	}
	return nil
}

func (c copier) copySchemas(ctx context.Context) error {
	schemas, err := userSchemas(ctx, c.src)
	if err != nil {
		return err
	}
	var views [][2]string
	for _, schema := range schemas {
		create, err := queryOne(ctx, c.src, "SHOW CREATE DATABASE "+ident(schema))
		if err != nil {
			return err
		}
		if err := execAll(ctx, c.dst, create["Create Database"], "USE "+ident(schema)); err != nil {
			return fmt.Errorf("creating %s: %w", schema, err)
		}
		tables, err := queryRows(ctx, c.src, "SHOW FULL TABLES FROM "+ident(schema))
		if err != nil {
			return err
		}
		for _, t := range tables {
			name := t["Tables_in_"+schema]
			switch t["Table_type"] {
			case "BASE TABLE":
				if err := c.copyTable(ctx, schema, name); err != nil {
					return fmt.Errorf("%s.%s: %w", schema, name, err)
				}
			case "VIEW":
				views = append(views, [2]string{schema, name})
			}
		}
	}
	// Views after every table, since a view may select from another schema's table.
	for _, v := range views {
		create, err := queryOne(ctx, c.src, "SHOW CREATE VIEW "+ident(v[0])+"."+ident(v[1]))
		if err != nil {
			return err
		}
		if err := execAll(ctx, c.dst, "USE "+ident(v[0]), create["Create View"]); err != nil {
			return fmt.Errorf("view %s.%s: %w", v[0], v[1], err)
		}
	}
	return nil
}

func (c copier) copyTable(ctx context.Context, schema, table string) error {
	create, err := queryOne(ctx, c.src, "SHOW CREATE TABLE "+ident(schema)+"."+ident(table))
	if err != nil {
		return err
	}
	if _, err := c.dst.ExecContext(ctx, create["Create Table"]); err != nil {
		return err
	}
	// Generated columns compute themselves; inserting into them is refused.
	cols, err := queryRows(ctx, c.src, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "+
		"AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION", schema, table)
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = ident(col["COLUMN_NAME"])
	}
	list := strings.Join(names, ", ")
	rows, err := c.src.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s.%s", list, ident(schema), ident(table)))
	if err != nil {
		return err
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, len(names))
	ptrs := make([]any, len(names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	insert := fmt.Sprintf("INSERT INTO %s.%s (%s) VALUES ", ident(schema), ident(table), list)
	var args []any
	var tuples []string
	size := 0
	flush := func() error {
		if len(tuples) == 0 {
			return nil
		}
		_, err := c.dst.ExecContext(ctx, insert+strings.Join(tuples, ", "), args...)
		args, tuples, size = args[:0], tuples[:0], 0
		return err
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
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
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

func (c copier) copyRoutines(ctx context.Context) error {
	routines, err := queryRows(ctx, c.src, "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "+
		"WHERE ROUTINE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
	if err != nil {
		return err
	}
	for _, r := range routines {
		kind := r["ROUTINE_TYPE"] // PROCEDURE or FUNCTION
		create, err := queryOne(ctx, c.src, fmt.Sprintf("SHOW CREATE %s %s.%s", kind, ident(r["ROUTINE_SCHEMA"]), ident(r["ROUTINE_NAME"])))
		if err != nil {
			return err
		}
		stmt := create["Create Procedure"]
		if kind == "FUNCTION" {
			stmt = create["Create Function"]
		}
		if err := execAll(ctx, c.dst, "USE "+ident(r["ROUTINE_SCHEMA"]), stmt); err != nil {
			return fmt.Errorf("%s %s.%s: %w", kind, r["ROUTINE_SCHEMA"], r["ROUTINE_NAME"], err)
		}
	}
	return nil
}

func (c copier) copyTriggers(ctx context.Context) error {
	triggers, err := queryRows(ctx, c.src, "SELECT TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS "+
		"WHERE TRIGGER_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
	if err != nil {
		return err
	}
	for _, tr := range triggers {
		create, err := queryOne(ctx, c.src, fmt.Sprintf("SHOW CREATE TRIGGER %s.%s", ident(tr["TRIGGER_SCHEMA"]), ident(tr["TRIGGER_NAME"])))
		if err != nil {
			return err
		}
		if err := execAll(ctx, c.dst, "USE "+ident(tr["TRIGGER_SCHEMA"]), create["SQL Original Statement"]); err != nil {
			return fmt.Errorf("trigger %s.%s: %w", tr["TRIGGER_SCHEMA"], tr["TRIGGER_NAME"], err)
		}
	}
	return nil
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
