package dataplane

import (
	"fmt"
	"strings"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Source is the member a replica replicates from.
type Source struct {
	Host     string
	Port     int
	User     string
	Password string
}

// Flavor holds every SQL difference between MySQL 8.4 and MariaDB; the rest of the
// package is flavor-blind. Statements that take credentials are built with quoteString
// and never logged.
type Flavor interface {
	Name() v1alpha1.MySQLFlavor
	// PrepareReplica runs on a stopped replica before ChangeSource, so that it asks
	// its new source for exactly what it lacks — also when it was a primary until now.
	PrepareReplica() []string
	// ChangeSource points a stopped replica at src with GTID auto-positioning.
	ChangeSource(src Source) string
	StartReplica() string
	StopReplica() string
	// ResetReplica forgets the replica configuration, for a member being promoted.
	ResetReplica() string
	// ReplicaStatus returns one row per replication channel (none on a primary).
	ReplicaStatus() string
	// ReplicaStatusColumns names the columns of ReplicaStatus the package reads.
	ReplicaStatusColumns() ReplicaColumns
	// GTIDExecuted selects the set of transactions the member has applied.
	GTIDExecuted() string
	// WaitForGTID selects 0 once the member applied gtid, or waits timeout seconds.
	WaitForGTID(gtid string, timeoutSeconds int) string
	// SetReadOnly fences (on) or opens (off) a member for writes.
	SetReadOnly(on bool) []string
	// SemiSyncSource enables or disables waiting for replica acknowledgements; acks is
	// the number of acknowledgements to wait for where the flavor can choose it.
	SemiSyncSource(on bool, acks int, timeoutMillis int) []string
	// SemiSyncReplica makes a replica acknowledge what it received.
	SemiSyncReplica(on bool) []string
	// SemiSyncSourceEnabled selects whether commits wait for acknowledgements.
	SemiSyncSourceEnabled() string
	// BeginSnapshot starts a consistent snapshot on a session; SnapshotGTID then
	// selects the GTID position the snapshot shows, and EndSnapshotLock releases any
	// lock BeginSnapshot took to make the two agree.
	BeginSnapshot() []string
	SnapshotGTID() string
	EndSnapshotLock() []string
	// SeedPosition makes a freshly seeded or restored member hold exactly gtid, so
	// that it asks its source for what follows, and so that its own binlogs start
	// there: what they no longer hold (PurgedGTID) is gtid, and a member that
	// replicated it before — whose position lacks gtid — is seen to need a rebuild.
	SeedPosition(gtid string) []string
	// RestorePosition is SeedPosition for a member a backup was loaded into. Its
	// replicas still hold the history before the restore, and a MariaDB position says
	// only how far each domain got: one that equals the backup's, reached by other
	// transactions, would look current. So MariaDB's binlogs also start at marker, a
	// GTID in a domain of its own that no member holds, and every replica that predates
	// the restore lacks it. MySQL's GTIDs name their servers, so its position is enough.
	RestorePosition(gtid string, marker GTID) []string
	// AllowOperatorWrites lets the operator's session write to a fenced member (for
	// seeding) while applications stay fenced.
	AllowOperatorWrites() []string
	// PurgedGTID selects the transactions the member's binlogs no longer hold. With
	// two statements, the first lists the binlogs and the second takes the oldest's
	// name as its argument.
	PurgedGTID() []string
	// MonitorGrants are the privileges of the monitoring account.
	MonitorGrants() string
	// RestrictAdmin takes from the users' administrator account what would let it
	// write to a fenced member.
	RestrictAdmin(account string) []string
}

// FlavorFor returns the implementation for the cluster's flavor.
func FlavorFor(f v1alpha1.MySQLFlavor) Flavor {
	if f == v1alpha1.FlavorMariaDB {
		return mariaDB{}
	}
	return mySQL{}
}

// ReplicaColumns are the names of the replica status columns, which the flavors spell
// differently.
type ReplicaColumns struct {
	SourceHost, SourcePort, IORunning, SQLRunning, Lag, LastIOError, LastSQLError string
	// Received is the GTID set the replica has received, applied or not.
	Received string
}

type mySQL struct{}

func (mySQL) ReplicaStatusColumns() ReplicaColumns {
	return ReplicaColumns{"Source_Host", "Source_Port", "Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source", "Last_IO_Error", "Last_SQL_Error", "Retrieved_Gtid_Set"}
}

func (mySQL) Name() v1alpha1.MySQLFlavor { return v1alpha1.FlavorMySQL }

func (mySQL) ChangeSource(s Source) string {
	return fmt.Sprintf("CHANGE REPLICATION SOURCE TO SOURCE_HOST = %s, SOURCE_PORT = %d, SOURCE_USER = %s, SOURCE_PASSWORD = %s, "+
		"SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, SOURCE_RETRY_COUNT = 86400, GET_SOURCE_PUBLIC_KEY = 1",
		quoteString(s.Host), s.Port, quoteString(s.User), quoteString(s.Password))
}

// MySQL's auto-positioning sends gtid_executed, which covers a former primary's writes.
func (mySQL) PrepareReplica() []string { return nil }
func (mySQL) StartReplica() string     { return "START REPLICA" }
func (mySQL) StopReplica() string      { return "STOP REPLICA" }
func (mySQL) ResetReplica() string     { return "RESET REPLICA ALL" }
func (mySQL) ReplicaStatus() string    { return "SHOW REPLICA STATUS" }
func (mySQL) GTIDExecuted() string     { return "SELECT @@GLOBAL.gtid_executed" }
func (mySQL) WaitForGTID(gtid string, timeout int) string {
	return fmt.Sprintf("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %d)", quoteString(gtid), timeout)
}

// super_read_only also stops accounts with SUPER, which is what fencing needs.
func (mySQL) SetReadOnly(on bool) []string {
	if on {
		return []string{"SET GLOBAL super_read_only = ON"}
	}
	return []string{"SET GLOBAL super_read_only = OFF", "SET GLOBAL read_only = OFF"}
}

func (mySQL) SemiSyncSource(on bool, acks, timeoutMillis int) []string {
	if !on {
		return []string{"SET GLOBAL rpl_semi_sync_source_enabled = OFF"}
	}
	// The plugins are loaded by my.cnf (mycnf), so these statements can repeat.
	return []string{
		fmt.Sprintf("SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = %d", acks),
		fmt.Sprintf("SET GLOBAL rpl_semi_sync_source_timeout = %d", timeoutMillis),
		"SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_SYNC",
		"SET GLOBAL rpl_semi_sync_source_enabled = ON",
	}
}

func (mySQL) SemiSyncSourceEnabled() string {
	return "SELECT @@GLOBAL.rpl_semi_sync_source_enabled"
}

func (mySQL) SemiSyncReplica(on bool) []string {
	if !on {
		return []string{"SET GLOBAL rpl_semi_sync_replica_enabled = OFF"}
	}
	return []string{"SET GLOBAL rpl_semi_sync_replica_enabled = ON"}
}

// MySQL has no snapshot-consistent binlog position, so a brief global read lock makes
// gtid_executed match the snapshot.
func (mySQL) BeginSnapshot() []string {
	return []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "FLUSH TABLES WITH READ LOCK", "START TRANSACTION WITH CONSISTENT SNAPSHOT"}
}
func (mySQL) SnapshotGTID() string      { return "SELECT @@GLOBAL.gtid_executed" }
func (mySQL) EndSnapshotLock() []string { return []string{"UNLOCK TABLES"} }
func (mySQL) SeedPosition(gtid string) []string {
	return []string{"RESET BINARY LOGS AND GTIDS", "SET GLOBAL gtid_purged = " + quoteString(gtid)}
}

func (f mySQL) RestorePosition(gtid string, _ GTID) []string { return f.SeedPosition(gtid) }

// super_read_only binds the operator too; read_only alone still binds applications.
func (mySQL) AllowOperatorWrites() []string {
	return []string{"SET GLOBAL super_read_only = OFF", "SET GLOBAL read_only = ON"}
}

func (mySQL) PurgedGTID() []string { return []string{"SELECT @@GLOBAL.gtid_purged"} }

func (mySQL) MonitorGrants() string { return "PROCESS, REPLICATION CLIENT" }

// super_read_only binds every account, SUPER included.
func (mySQL) RestrictAdmin(string) []string { return nil }

type mariaDB struct{}

// MariaDB records the binlog position of a consistent snapshot, without locking.
func (mariaDB) BeginSnapshot() []string {
	return []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT"}
}
func (mariaDB) SnapshotGTID() string {
	return "SELECT BINLOG_GTID_POS(" +
		"(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'BINLOG_SNAPSHOT_FILE'), " +
		"(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'BINLOG_SNAPSHOT_POSITION'))"
}
func (mariaDB) EndSnapshotLock() []string { return nil }
func (mariaDB) SeedPosition(gtid string) []string {
	return []string{"RESET MASTER", "SET GLOBAL gtid_binlog_state = " + quoteString(gtid), "SET GLOBAL gtid_slave_pos = " + quoteString(gtid)}
}

// The replication position must name every domain the binlog does: both hold the
// marker.
func (f mariaDB) RestorePosition(gtid string, marker GTID) []string {
	state := fmt.Sprintf("%d-%d-%d", marker.Domain, marker.ServerID, marker.Seq)
	if gtid != "" {
		state = gtid + "," + state
	}
	return f.SeedPosition(state)
}

// The operator's account holds READ_ONLY ADMIN, which read_only does not bind.
func (mariaDB) AllowOperatorWrites() []string { return nil }

// MariaDB has no gtid_purged: the oldest binlog starts at the position that was purged.
func (mariaDB) PurgedGTID() []string {
	return []string{"SHOW BINARY LOGS", "SELECT BINLOG_GTID_POS(?, 4)"}
}

func (mariaDB) MonitorGrants() string { return "PROCESS, SLAVE MONITOR, BINLOG MONITOR" }

// In MariaDB 10.11 SUPER implies READ_ONLY ADMIN, which writes through read_only: an
// administrator holding either would write to a fenced member.
func (mariaDB) RestrictAdmin(account string) []string {
	return []string{"REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM " + account}
}

func (mariaDB) ReplicaStatusColumns() ReplicaColumns {
	return ReplicaColumns{"Master_Host", "Master_Port", "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master", "Last_IO_Error", "Last_SQL_Error", "Gtid_IO_Pos"}
}

func (mariaDB) Name() v1alpha1.MySQLFlavor { return v1alpha1.FlavorMariaDB }

func (mariaDB) ChangeSource(s Source) string {
	return fmt.Sprintf("CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %d, MASTER_USER = %s, MASTER_PASSWORD = %s, "+
		"MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
		quoteString(s.Host), s.Port, quoteString(s.User), quoteString(s.Password))
}

// MASTER_USE_GTID = slave_pos asks for what follows gtid_slave_pos, which a former
// primary never advanced; its binlog position (in gtid_current_pos) is what it holds.
func (mariaDB) PrepareReplica() []string {
	return []string{"SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos"}
}
func (mariaDB) StartReplica() string  { return "START SLAVE" }
func (mariaDB) StopReplica() string   { return "STOP SLAVE" }
func (mariaDB) ResetReplica() string  { return "RESET SLAVE ALL" }
func (mariaDB) ReplicaStatus() string { return "SHOW SLAVE STATUS" }

// gtid_current_pos covers both what the member wrote itself and what it applied as a
// replica, which is what "most advanced" compares.
func (mariaDB) GTIDExecuted() string { return "SELECT @@GLOBAL.gtid_current_pos" }
func (mariaDB) WaitForGTID(gtid string, timeout int) string {
	return fmt.Sprintf("SELECT MASTER_GTID_WAIT(%s, %d)", quoteString(gtid), timeout)
}

// MariaDB's read_only stops every account without READ_ONLY ADMIN, the replication
// threads excepted.
func (mariaDB) SetReadOnly(on bool) []string {
	return []string{fmt.Sprintf("SET GLOBAL read_only = %s", onOff(on))}
}

// MariaDB's semi-sync is built in and always waits for a single acknowledgement.
func (mariaDB) SemiSyncSource(on bool, _ int, timeoutMillis int) []string {
	if !on {
		return []string{"SET GLOBAL rpl_semi_sync_master_enabled = OFF"}
	}
	return []string{
		fmt.Sprintf("SET GLOBAL rpl_semi_sync_master_timeout = %d", timeoutMillis),
		"SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC",
		"SET GLOBAL rpl_semi_sync_master_enabled = ON",
	}
}

func (mariaDB) SemiSyncSourceEnabled() string {
	return "SELECT @@GLOBAL.rpl_semi_sync_master_enabled"
}

func (mariaDB) SemiSyncReplica(on bool) []string {
	return []string{fmt.Sprintf("SET GLOBAL rpl_semi_sync_slave_enabled = %s", onOff(on))}
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// quoteString makes s a SQL string literal. CHANGE ... TO takes no placeholders, so
// credentials must be quoted here; backslashes and quotes are escaped for both
// flavors' default sql_mode.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}
