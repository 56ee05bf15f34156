package dataplane

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stowage/stowage/pkg/backup"
)

// LoadOptions tune a restore.
type LoadOptions struct {
	// Parallel data files are loaded at once, each on its own connection (8 by
	// default: in make bench-backup, on 2 cores, 2 loaders took 1.7× and 4 loaders
	// 1.1× as long as 8 — the loaders wait on the server more than they compute).
	Parallel int
	// Force drops the applications' schemas the member holds first.
	Force bool
}

// Load replays a backup made by Dump into the member, which must hold no
// applications' schemas (the caller checks, or forces by dropping them first), and
// positions it at the backup's GTID: its history is the backup's, not a new
// transaction of its own, so nothing of the load reaches its binlog. The caller
// verifies the backup first (backup.Reader.Verify); every file is checked again as it
// is read.
func (m *Member) Load(ctx context.Context, r *backup.Reader, opts LoadOptions) error {
	if opts.Parallel < 1 {
		opts.Parallel = 8
	}
	pool := m.pool(opts.Parallel)
	defer pool.Close()
	session := append([]string{"SET SESSION sql_log_bin = 0", "SET SESSION foreign_key_checks = 0", "SET SESSION unique_checks = 0",
		// The dump's literals use backslash escapes; a zero in an auto-increment
		// column is a value, not a request for the next one.
		"SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'"}, m.flavor.AllowOperatorWrites()...)
	conn := func() (*sql.Conn, error) {
		c, err := pool.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if err := execAll(ctx, c, session...); err != nil {
			c.Close()
			return nil, fmt.Errorf("preparing a loading session: %w", err)
		}
		return c, nil
	}
	main, err := conn()
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	defer main.Close()
	schemas, err := userSchemas(ctx, main)
	if err != nil {
		return err
	}
	if len(schemas) > 0 && !opts.Force {
		return fmt.Errorf("%s already holds the schemas %v; a restore goes into an empty cluster unless forced", m.Name, schemas)
	}
	if err := (copier{dst: main}).dropSchemas(ctx); err != nil {
		return fmt.Errorf("%s: dropping the schemas it held: %w", m.Name, err)
	}
	for _, name := range []string{"accounts.sql", "schema.sql"} {
		if err := loadFile(ctx, main, r, name); err != nil {
			return err
		}
	}
	files := make(chan string)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(files)
		for _, name := range loadOrder(r.Files("data/")) {
			select {
			case files <- name:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range opts.Parallel {
		g.Go(func() error {
			c, err := conn()
			if err != nil {
				return err
			}
			defer c.Close()
			for name := range files {
				if err := loadStored(gctx, c, r, name); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, name := range []string{"views.sql", "routines.sql", "triggers.sql"} {
		if err := loadFile(ctx, main, r, name); err != nil {
			return err
		}
	}
	// Always, even at an empty position: the member's binlogs restart at the backup's
	// position, so its replicas, which hold the history before the restore, are
	// rebuilt from it rather than left following a binlog without the loaded data.
	gtid := r.Manifest().Position
	marker, err := restoreMarker(ctx, main)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	if err := execAll(ctx, main, m.flavor.RestorePosition(gtid, marker)...); err != nil {
		return fmt.Errorf("%s: positioning at %q: %w", m.Name, gtid, err)
	}
	return nil
}

// restoreMarker is a GTID no member holds: this server's first transaction in a
// domain drawn at random above the ones applications use (Flavor.RestorePosition).
func restoreMarker(ctx context.Context, c *sql.Conn) (GTID, error) {
	var serverID uint32
	if err := c.QueryRowContext(ctx, "SELECT @@server_id").Scan(&serverID); err != nil {
		return GTID{}, fmt.Errorf("reading server_id: %w", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return GTID{}, fmt.Errorf("drawing the restore marker's domain: %w", err)
	}
	domain := 1<<24 + binary.BigEndian.Uint32(b[:])%(1<<31-1<<24)
	return GTID{Domain: domain, ServerID: serverID, Seq: 1}, nil
}

// loadFile replays one of the backup's statement files, named as Dump named it.
func loadFile(ctx context.Context, c *sql.Conn, r *backup.Reader, name string) error {
	files := r.Files(name)
	if len(files) != 1 {
		return fmt.Errorf("%w: the backup has no %s", backup.ErrIncomplete, name)
	}
	return loadStored(ctx, c, r, files[0].Name)
}

func loadStored(ctx context.Context, c *sql.Conn, r *backup.Reader, stored string) error {
	f, err := r.Open(ctx, stored)
	if err != nil {
		return err
	}
	defer f.Close()
	err = readStatements(f, func(stmt string) error {
		if err := execLoading(ctx, c, stmt); err != nil {
			return fmt.Errorf("%s: %.100s: %w", stored, strings.TrimSpace(stmt), err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading %s: %w", stored, err)
	}
	return nil
}

// loadAttempts bounds how often one statement is run again after the server rolled it
// back to break a deadlock.
const loadAttempts = 5

// execLoading runs one of the backup's statements, again if the server rolled it back
// to break a deadlock or a lock wait. Each statement is a transaction of its own
// (autocommit), so a rolled-back one left nothing behind. Loaders do deadlock: MariaDB
// inserts into an empty table in bulk under unique_checks=0 and foreign_key_checks=0,
// which takes the table's exclusive lock, and two loaders that start on the same empty
// table each hold the shared intention lock the other's exclusive lock waits for.
func execLoading(ctx context.Context, c *sql.Conn, stmt string) error {
	for attempt := 1; ; attempt++ {
		_, err := c.ExecContext(ctx, stmt)
		if err == nil || attempt == loadAttempts || !isServerError(err, errDeadlock, errLockWaitTimeout) {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// loadOrder deals the data files out round-robin over the tables, biggest table
// first: the first chunk of every table, then every second chunk, and so on. Loaders
// taking files in this order work on different tables, where loaders on one table
// contend for its index pages; and the biggest table, started first, does not finish
// last.
func loadOrder(files []backup.File) []string {
	type table struct {
		size   int64
		chunks []backup.File
	}
	byTable := map[string]*table{}
	var tables []*table
	for _, f := range files {
		name := strings.TrimSuffix(f.Name, ".sql")
		name = name[:max(strings.LastIndexByte(name, '.'), 0)]
		t := byTable[name]
		if t == nil {
			t = &table{}
			byTable[name] = t
			tables = append(tables, t)
		}
		t.size += f.RawSize
		t.chunks = append(t.chunks, f)
	}
	slices.SortStableFunc(tables, func(a, b *table) int { return cmp.Compare(b.size, a.size) })
	var order []string
	for round := 0; len(order) < len(files); round++ {
		for _, t := range tables {
			if round < len(t.chunks) {
				order = append(order, t.chunks[round].Name)
			}
		}
	}
	return order
}
