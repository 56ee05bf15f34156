package dataplane

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// catalog is every definition of the applications' objects, read from one
// connection (a snapshot): what a seed replays on a member and a backup stores. Rows
// are read separately, table by table.
type catalog struct {
	// accounts: for each application account, the statements that recreate it with
	// its grants.
	accounts [][]string
	// databases in order, with their CREATE DATABASE statements.
	databases []scoped
	// tables with their CREATE TABLE statements, in schema order.
	tables []table
	// views come after every table (a view may select from another schema's table);
	// routines and triggers after the rows (a trigger must not fire on loaded rows).
	views, routines, triggers []scoped
}

// scoped is a statement run with a default schema ("" for none).
type scoped struct{ schema, stmt string }

type table struct {
	schema, name string
	create       string
}

func (t table) String() string { return t.schema + "." + t.name }

func readCatalog(ctx context.Context, src *sql.Conn) (catalog, error) {
	var c catalog
	var err error
	if c.accounts, err = readAccounts(ctx, src); err != nil {
		return c, fmt.Errorf("reading accounts: %w", err)
	}
	if err := c.readSchemas(ctx, src); err != nil {
		return c, fmt.Errorf("reading schemas: %w", err)
	}
	if c.routines, err = readRoutines(ctx, src); err != nil {
		return c, fmt.Errorf("reading routines: %w", err)
	}
	if c.triggers, err = readTriggers(ctx, src); err != nil {
		return c, fmt.Errorf("reading triggers: %w", err)
	}
	return c, nil
}

func readAccounts(ctx context.Context, src *sql.Conn) ([][]string, error) {
	accounts, err := queryRows(ctx, src, "SELECT User, Host FROM mysql.user")
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, a := range accounts {
		user, host := a["User"], a["Host"]
		if slices.Contains(systemAccounts, user) {
			continue
		}
		account := quoteString(user) + "@" + quoteString(host)
		create, err := queryOne(ctx, src, "SHOW CREATE USER "+account)
		if err != nil {
			return nil, err
		}
		grants, err := queryRows(ctx, src, "SHOW GRANTS FOR "+account)
		if err != nil {
			return nil, err
		}
		stmts := []string{"DROP USER IF EXISTS " + account, firstColumn(create)}
		for _, g := range grants {
			stmts = append(stmts, firstColumn(g))
		}
		out = append(out, stmts)
	}
	return out, nil
}

func (c *catalog) readSchemas(ctx context.Context, src *sql.Conn) error {
	schemas, err := userSchemas(ctx, src)
	if err != nil {
		return err
	}
	for _, schema := range schemas {
		create, err := queryOne(ctx, src, "SHOW CREATE DATABASE "+ident(schema))
		if err != nil {
			return err
		}
		c.databases = append(c.databases, scoped{stmt: create["Create Database"]})
		tables, err := queryRows(ctx, src, "SHOW FULL TABLES FROM "+ident(schema))
		if err != nil {
			return err
		}
		for _, t := range tables {
			name := t["Tables_in_"+schema]
			switch t["Table_type"] {
			case "BASE TABLE":
				create, err := queryOne(ctx, src, "SHOW CREATE TABLE "+ident(schema)+"."+ident(name))
				if err != nil {
					return err
				}
				c.tables = append(c.tables, table{schema: schema, name: name, create: create["Create Table"]})
			case "VIEW":
				create, err := queryOne(ctx, src, "SHOW CREATE VIEW "+ident(schema)+"."+ident(name))
				if err != nil {
					return err
				}
				c.views = append(c.views, scoped{schema, create["Create View"]})
			}
		}
	}
	return nil
}

func readRoutines(ctx context.Context, src *sql.Conn) ([]scoped, error) {
	routines, err := queryRows(ctx, src, "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "+
		"WHERE ROUTINE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
	if err != nil {
		return nil, err
	}
	var out []scoped
	for _, r := range routines {
		kind := r["ROUTINE_TYPE"] // PROCEDURE or FUNCTION
		create, err := queryOne(ctx, src, fmt.Sprintf("SHOW CREATE %s %s.%s", kind, ident(r["ROUTINE_SCHEMA"]), ident(r["ROUTINE_NAME"])))
		if err != nil {
			return nil, err
		}
		stmt := create["Create Procedure"]
		if kind == "FUNCTION" {
			stmt = create["Create Function"]
		}
		out = append(out, scoped{r["ROUTINE_SCHEMA"], stmt})
	}
	return out, nil
}

func readTriggers(ctx context.Context, src *sql.Conn) ([]scoped, error) {
	triggers, err := queryRows(ctx, src, "SELECT TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS "+
		"WHERE TRIGGER_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
	if err != nil {
		return nil, err
	}
	var out []scoped
	for _, tr := range triggers {
		create, err := queryOne(ctx, src, fmt.Sprintf("SHOW CREATE TRIGGER %s.%s", ident(tr["TRIGGER_SCHEMA"]), ident(tr["TRIGGER_NAME"])))
		if err != nil {
			return nil, err
		}
		out = append(out, scoped{tr["TRIGGER_SCHEMA"], create["SQL Original Statement"]})
	}
	return out, nil
}

// run executes statements in their schemas on dst.
func run(ctx context.Context, dst *sql.Conn, stmts []scoped) error {
	for _, s := range stmts {
		if s.schema != "" {
			if _, err := dst.ExecContext(ctx, "USE "+ident(s.schema)); err != nil {
				return err
			}
		}
		if _, err := dst.ExecContext(ctx, s.stmt); err != nil {
			return fmt.Errorf("%.80s: %w", s.stmt, err)
		}
	}
	return nil
}

// selectColumns are a table's stored columns (generated ones compute themselves and
// refuse inserts), quoted, for the SELECT that reads rows and the INSERT that writes
// them.
func selectColumns(ctx context.Context, src *sql.Conn, t table) ([]string, error) {
	cols, err := queryRows(ctx, src, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "+
		"AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION", t.schema, t.name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = ident(col["COLUMN_NAME"])
	}
	return names, nil
}

// tableRows reads a table's stored columns row by row from a snapshot connection:
// what a seed copies and a backup writes.
type tableRows struct {
	// insert is the head of an INSERT that writes the same columns.
	insert  string
	columns int
	rows    *sql.Rows
}

func openRows(ctx context.Context, src *sql.Conn, t table) (*tableRows, error) {
	names, err := selectColumns(ctx, src, t)
	if err != nil {
		return nil, err
	}
	list := strings.Join(names, ", ")
	rows, err := src.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s.%s", list, ident(t.schema), ident(t.name)))
	if err != nil {
		return nil, err
	}
	return &tableRows{insert: fmt.Sprintf("INSERT INTO %s.%s (%s) VALUES ", ident(t.schema), ident(t.name), list), columns: len(names), rows: rows}, nil
}

// each calls fn with every row's raw values (nil for NULL), valid only during the
// call, and closes the rows.
func (r *tableRows) each(fn func(raw []sql.RawBytes) error) error {
	defer r.rows.Close()
	raw := make([]sql.RawBytes, r.columns)
	ptrs := make([]any, r.columns)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for r.rows.Next() {
		if err := r.rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return r.rows.Err()
}
