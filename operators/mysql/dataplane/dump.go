package dataplane

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/stowage/stowage/pkg/backup"
)

// A backup of a member is a logical one, laid out for a parallel load:
//
//	accounts.sql               the applications' accounts and grants
//	schema.sql                 CREATE DATABASE and CREATE TABLE, in order
//	data/<schema>/<table>.<n>.sql  a table's rows, in chunks of about ChunkBytes
//	views.sql routines.sql triggers.sql
//
// every file in the statement format of statements.go. All of it is read from one
// consistent snapshot shared by every worker, whose GTID position is the backup's.

// DumpOptions tune a backup.
type DumpOptions struct {
	// Parallel tables are read at once (each on its own connection, all in the
	// same snapshot).
	Parallel int
	// ChunkBytes ends a table's data file after about this many bytes of rows, so a
	// big table loads in parallel too.
	ChunkBytes int64
	// StatementBytes bounds one INSERT, well below max_allowed_packet.
	StatementBytes int
}

func (o DumpOptions) withDefaults() DumpOptions {
	if o.Parallel < 1 {
		o.Parallel = 4
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 64 << 20
	}
	if o.StatementBytes <= 0 {
		o.StatementBytes = 1 << 20
	}
	return o
}

// Dump writes a consistent logical backup of the member into w and returns the
// GTID position it is consistent at.
func (m *Member) Dump(ctx context.Context, w *backup.Writer, opts DumpOptions) (string, error) {
	opts = opts.withDefaults()
	pool := m.pool(opts.Parallel + 1)
	defer pool.Close()
	workers, gtid, err := parallelSnapshot(ctx, pool, m.flavor, opts.Parallel)
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.Name, err)
	}
	defer func() {
		for _, c := range workers {
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // read-only snapshot
			c.Close()
		}
	}()
	cat, err := readCatalog(ctx, workers[0])
	if err != nil {
		return "", err
	}
	var accounts []scoped
	for _, stmts := range cat.accounts {
		for _, s := range stmts {
			accounts = append(accounts, scoped{stmt: s})
		}
	}
	var schema []scoped
	schema = append(schema, cat.databases...)
	for _, t := range cat.tables {
		schema = append(schema, scoped{t.schema, t.create})
	}
	for _, f := range []struct {
		name  string
		stmts []scoped
	}{{"accounts.sql", accounts}, {"schema.sql", schema}, {"views.sql", cat.views}, {"routines.sql", cat.routines}, {"triggers.sql", cat.triggers}} {
		if err := writeStatementsFile(ctx, w, f.name, f.stmts); err != nil {
			return "", err
		}
	}

	// Biggest tables first, so one big table does not start last.
	tables := make(chan table)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(tables)
		for _, t := range bySize(ctx, workers[0], cat.tables) {
			select {
			case tables <- t:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for _, conn := range workers {
		g.Go(func() error {
			for t := range tables {
				if err := dumpTable(gctx, conn, w, t, opts); err != nil {
					return fmt.Errorf("%s: %w", t, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	return gtid, nil
}

// parallelSnapshot opens n connections that all see the same consistent snapshot:
// they start their transactions while a global read lock holds every commit back,
// and the snapshot's GTID position is read before the lock is released.
func parallelSnapshot(ctx context.Context, pool *sql.DB, f Flavor, n int) ([]*sql.Conn, string, error) {
	lock, err := pool.Conn(ctx)
	if err != nil {
		return nil, "", err
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		return nil, "", fmt.Errorf("taking the global read lock: %w", err)
	}
	defer lock.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES") //nolint:errcheck // ends with the connection anyway
	var conns []*sql.Conn
	fail := func(err error) ([]*sql.Conn, string, error) {
		for _, c := range conns {
			c.Close()
		}
		return nil, "", err
	}
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			return fail(err)
		}
		conns = append(conns, c)
		if err := execAll(ctx, c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return fail(fmt.Errorf("starting a snapshot: %w", err))
		}
	}
	var gtid string
	if err := conns[0].QueryRowContext(ctx, f.SnapshotGTID()).Scan(&gtid); err != nil {
		return fail(fmt.Errorf("reading the snapshot's GTID position: %w", err))
	}
	return conns, gtid, nil
}

// bySize orders tables biggest first, as the server estimates them; on any error,
// as they are.
func bySize(ctx context.Context, conn *sql.Conn, tables []table) []table {
	sizes := map[string]int64{}
	rows, err := conn.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(DATA_LENGTH, 0) FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
	if err == nil {
		for rows.Next() {
			var schema, name string
			var size int64
			if rows.Scan(&schema, &name, &size) == nil {
				sizes[schema+"."+name] = size
			}
		}
		rows.Close()
	}
	out := slices.Clone(tables)
	slices.SortStableFunc(out, func(a, b table) int { return cmp.Compare(sizes[b.String()], sizes[a.String()]) })
	return out
}

func writeStatementsFile(ctx context.Context, w *backup.Writer, name string, stmts []scoped) error {
	f, err := w.Create(ctx, name)
	if err != nil {
		return err
	}
	if err := writeScoped(f, stmts); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return f.Close()
}

func writeScoped(f io.Writer, stmts []scoped) error {
	if _, err := io.WriteString(f, statementsHeader); err != nil {
		return err
	}
	current := ""
	for _, s := range stmts {
		if s.schema != "" && s.schema != current {
			if err := writeStatement(f, "USE "+ident(s.schema)); err != nil {
				return err
			}
			current = s.schema
		}
		if err := writeStatement(f, s.stmt); err != nil {
			return err
		}
	}
	return nil
}

// dumpTable writes a table's rows as multi-row INSERTs into chunk files.
func dumpTable(ctx context.Context, conn *sql.Conn, w *backup.Writer, t table, opts DumpOptions) error {
	rows, err := openRows(ctx, conn, t)
	if err != nil {
		return err
	}
	chunks := chunkWriter{ctx: ctx, w: w, base: path.Join("data", t.schema, t.name), limit: opts.ChunkBytes}
	defer chunks.abort()
	var stmt bytes.Buffer
	var row bytes.Buffer
	err = rows.each(func(raw []sql.RawBytes) error {
		row.Reset()
		row.WriteByte('(')
		for i, v := range raw {
			if i > 0 {
				row.WriteByte(',')
			}
			sqlLiteral(&row, v)
		}
		row.WriteByte(')')
		if stmt.Len() > 0 && stmt.Len()+row.Len() > opts.StatementBytes {
			if err := chunks.write(stmt.String()); err != nil {
				return err
			}
			stmt.Reset()
		}
		if stmt.Len() == 0 {
			stmt.WriteString(rows.insert)
		} else {
			stmt.WriteByte(',')
		}
		stmt.Write(row.Bytes())
		return nil
	})
	if err != nil {
		return err
	}
	if stmt.Len() > 0 {
		if err := chunks.write(stmt.String()); err != nil {
			return err
		}
	}
	return chunks.close()
}

// chunkWriter spreads a table's statements over files of about limit bytes.
type chunkWriter struct {
	ctx     context.Context
	w       *backup.Writer
	base    string
	limit   int64
	n       int
	current io.WriteCloser
	written int64
}

func (c *chunkWriter) write(stmt string) error {
	if c.current == nil {
		f, err := c.w.Create(c.ctx, fmt.Sprintf("%s.%d.sql", c.base, c.n))
		if err != nil {
			return err
		}
		c.current, c.written = f, 0
		c.n++
		if _, err := io.WriteString(f, statementsHeader); err != nil {
			return err
		}
	}
	if err := writeStatement(c.current, stmt); err != nil {
		return err
	}
	c.written += int64(len(stmt))
	if c.written >= c.limit {
		return c.close()
	}
	return nil
}

func (c *chunkWriter) close() error {
	if c.current == nil {
		return nil
	}
	err := c.current.Close()
	c.current = nil
	return err
}

// abort closes an unfinished chunk after an error (it is then not in the backup's
// manifest, which is never written anyway).
func (c *chunkWriter) abort() { _ = c.close() }
