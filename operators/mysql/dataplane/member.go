package dataplane

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Credentials the operator connects with.
type Credentials struct {
	User     string
	Password string
}

// Member is a connection to one server.
type Member struct {
	Name     string
	Addr     string
	flavor   Flavor
	accounts Accounts
	config   *mysql.Config
	db       *sql.DB
}

// Connect opens a small connection pool to the member at addr (host:port). A short
// dial timeout keeps an unreachable member from stalling a health check; reads may
// take longer (waiting for a GTID), so callers bound them with contexts.
func Connect(name, addr string, flavor Flavor, accounts Accounts) (*Member, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = accounts.Operator.User, accounts.Operator.Password, "tcp", addr
	c.Timeout, c.ReadTimeout, c.WriteTimeout = time.Second, time.Minute, time.Minute
	c.InterpolateParams = true
	connector, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("configuring a connection to %s: %w", name, err)
	}
	db := sql.OpenDB(connector)
	// Health checks, a seed's snapshot and a switchover may each hold one.
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(30 * time.Second)
	return &Member{Name: name, Addr: addr, flavor: flavor, accounts: accounts, config: c, db: db}, nil
}

// Close releases the member's connections.
func (m *Member) Close() error { return m.db.Close() }

// MemberState is what one health check saw of a member.
type MemberState struct {
	Name      string
	Reachable bool
	// Error says why the member could not be read.
	Error string
	// ReadOnly is true when the member refuses writes from applications.
	ReadOnly bool
	// GTID is the set of transactions the member has applied.
	GTID string
	// SemiSync is true when commits on this member wait for replica acknowledgements.
	SemiSync bool
	// Replica is true when the member has a replication source configured.
	Replica    bool
	SourceHost string
	SourcePort int
	IORunning  bool
	// IOConnecting: the IO thread is (re)connecting to its source — just attached, or
	// the source went away. Repointing it would only restart the attempt.
	IOConnecting bool
	SQLRunning   bool
	LagSeconds   *int64
	LastIOError  string
	LastIOErrno  int
	LastSQLError string
	// Received is what the replica received from its source, applied or not.
	Received string
	// Purged is what the member's binlogs no longer hold: a replica of this member
	// must already have it.
	Purged string
	// Rebuilding: the supervisor is re-seeding the member; it takes no part in
	// decisions until it is done.
	Rebuilding bool
}

// State reads the member's role and replication position. A member that refuses the
// operator's login gets the operator's accounts first (a freshly initialised member).
func (m *Member) State(ctx context.Context) MemberState {
	s := MemberState{Name: m.Name}
	err := m.readState(ctx, &s)
	if isServerError(err, errAccessDenied) {
		if err = m.createAccounts(ctx); err == nil {
			s = MemberState{Name: m.Name}
			err = m.readState(ctx, &s)
		}
	}
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Reachable = true
	return s
}

func (m *Member) readState(ctx context.Context, s *MemberState) error {
	if err := m.db.QueryRowContext(ctx, "SELECT @@GLOBAL.read_only").Scan(&s.ReadOnly); err != nil {
		return fmt.Errorf("reading read_only: %w", err)
	}
	if err := m.db.QueryRowContext(ctx, m.flavor.GTIDExecuted()).Scan(&s.GTID); err != nil {
		return fmt.Errorf("reading the GTID position: %w", err)
	}
	if err := m.db.QueryRowContext(ctx, m.flavor.SemiSyncSourceEnabled()).Scan(&s.SemiSync); err != nil {
		return fmt.Errorf("reading the semi-sync setting: %w", err)
	}
	if err := m.readPurged(ctx, s); err != nil {
		return err
	}
	row, err := m.replicaStatus(ctx)
	if err != nil || row == nil {
		return err
	}
	col := m.flavor.ReplicaStatusColumns()
	s.Replica = true
	s.SourceHost = row[col.SourceHost]
	s.SourcePort, _ = strconv.Atoi(row[col.SourcePort])
	s.IORunning = row[col.IORunning] == "Yes"
	s.IOConnecting = row[col.IORunning] == "Connecting"
	s.SQLRunning = row[col.SQLRunning] == "Yes"
	if lag, err := strconv.ParseInt(row[col.Lag], 10, 64); err == nil {
		s.LagSeconds = &lag
	}
	s.LastIOError, s.LastSQLError, s.Received = row[col.LastIOError], row[col.LastSQLError], row[col.Received]
	s.LastIOErrno, _ = strconv.Atoi(row["Last_IO_Errno"])
	return nil
}

func (m *Member) readPurged(ctx context.Context, s *MemberState) error {
	q := m.flavor.PurgedGTID()
	var arg []any
	if len(q) == 2 {
		logs, err := queryRows(ctx, m.db, q[0])
		if err != nil {
			return fmt.Errorf("listing binlogs: %w", err)
		}
		if len(logs) == 0 || firstColumn(logs[0]) == "" {
			return nil
		}
		arg = []any{firstColumn(logs[0])}
	}
	var purged sql.NullString
	if err := m.db.QueryRowContext(ctx, q[len(q)-1], arg...).Scan(&purged); err != nil {
		return fmt.Errorf("reading the purged GTID position: %w", err)
	}
	s.Purged = purged.String
	return nil
}

// replicaStatus returns the replica status row as column → value, or nil on a member
// that replicates from nobody.
func (m *Member) replicaStatus(ctx context.Context) (map[string]string, error) {
	rows, err := queryRows(ctx, m.db, m.flavor.ReplicaStatus())
	if err != nil {
		return nil, fmt.Errorf("reading replica status: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

// exec runs statements in order on one connection. Statements may carry credentials,
// so errors name the statement's position, never its text.
func (m *Member) exec(ctx context.Context, stmts ...string) error {
	conn, err := m.db.Conn(ctx)
	if isServerError(err, errAccessDenied) {
		if err = m.createAccounts(ctx); err == nil {
			conn, err = m.db.Conn(ctx)
		}
	}
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", m.Name, err)
	}
	defer conn.Close()
	for i, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: statement %d of %d: %w", m.Name, i+1, len(stmts), err)
		}
	}
	return nil
}

// ReplicateFrom makes the member a read-only replica of src, positioned by GTID, that
// acknowledges what it receives when semiSync is on.
func (m *Member) ReplicateFrom(ctx context.Context, src Source, semiSync bool) error {
	stmts := append(m.flavor.SetReadOnly(true), m.flavor.StopReplica())
	stmts = append(stmts, m.flavor.SemiSyncReplica(semiSync)...)
	stmts = append(stmts, m.flavor.PrepareReplica()...)
	stmts = append(stmts, m.flavor.ChangeSource(src), m.flavor.StartReplica())
	return m.exec(ctx, stmts...)
}

// SemiSync configures how many replica acknowledgements a commit on this member waits
// for (acks 0 turns waiting off).
func (m *Member) SemiSync(ctx context.Context, acks int, timeout time.Duration) error {
	return m.exec(ctx, m.flavor.SemiSyncSource(acks > 0, acks, int(timeout.Milliseconds()))...)
}

// Promote makes the member a writable primary that replicates from nobody.
func (m *Member) Promote(ctx context.Context) error {
	stmts := append([]string{m.flavor.StopReplica(), m.flavor.ResetReplica()}, m.flavor.SetReadOnly(false)...)
	return m.exec(ctx, stmts...)
}

// fenceWait bounds how long read_only may wait for commits in flight before the
// sessions holding them are ended: a commit waiting for a semi-sync acknowledgement
// that will not come would otherwise hold the fence (and the supervisor) for good.
const fenceWait = 3 * time.Second

// Fence stops the member from accepting application writes, then ends every
// application session, so that no session opened before the fence writes after it.
func (m *Member) Fence(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, fenceWait)
	err := m.exec(wctx, m.flavor.SetReadOnly(true)...)
	cancel()
	if err != nil {
		if err := m.endSessions(ctx); err != nil {
			return err
		}
		if err := m.exec(ctx, m.flavor.SetReadOnly(true)...); err != nil {
			return err
		}
	}
	return m.endSessions(ctx)
}

// endSessions ends every application session on the member.
func (m *Member) endSessions(ctx context.Context) error {
	rows, err := m.db.QueryContext(ctx, sessionsToEnd(m.accounts))
	if err != nil {
		return fmt.Errorf("%s: listing sessions to end: %w", m.Name, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		// A session may end by itself meanwhile (1094: unknown thread).
		if _, err := m.db.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id)); err != nil && !isServerError(err, errUnknownThread) {
			return fmt.Errorf("%s: ending session %d: %w", m.Name, id, err)
		}
	}
	return nil
}

// ErrGTIDWaitTimeout means the member did not apply a GTID set in time.
var ErrGTIDWaitTimeout = errors.New("timed out waiting for the GTID position")

// WaitForGTID waits until the member applied gtid.
func (m *Member) WaitForGTID(ctx context.Context, gtid string, timeout time.Duration) error {
	var result sql.NullInt64
	if err := m.db.QueryRowContext(ctx, m.flavor.WaitForGTID(gtid, int(timeout.Seconds()))).Scan(&result); err != nil {
		return fmt.Errorf("%s: waiting for GTID %s: %w", m.Name, gtid, err)
	}
	if !result.Valid || result.Int64 != 0 {
		return fmt.Errorf("%s: %w %s", m.Name, ErrGTIDWaitTimeout, gtid)
	}
	return nil
}

// Isolate stops replication on a diverged member and keeps it fenced, so that it
// neither serves nor spreads what it holds until a human looks at it.
func (m *Member) Isolate(ctx context.Context) error {
	return m.exec(ctx, append(m.flavor.SetReadOnly(true), m.flavor.StopReplica())...)
}

// pool opens a separate pool of n connections to the member for a long job (a backup
// or a restore), with no read timeout: one SELECT of a big table streams for as long
// as the table takes.
func (m *Member) pool(n int) *sql.DB {
	c := m.config.Clone()
	c.ReadTimeout, c.WriteTimeout = 0, 0
	connector, err := mysql.NewConnector(c)
	if err != nil { // the same configuration made m's own pool
		panic(err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return db
}
