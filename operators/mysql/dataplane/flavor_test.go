package dataplane

import (
	"strings"
	"testing"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestFlavorStatements(t *testing.T) {
	src := Source{Host: "db-0.db-headless.ns.svc", Port: 3306, User: "repl", Password: `p'w\d`}
	cases := []struct {
		flavor v1alpha1.MySQLFlavor
		got    func(Flavor) string
		want   string
	}{
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return f.ChangeSource(src) },
			`CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db-0.db-headless.ns.svc', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'p\'w\\d', SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, SOURCE_RETRY_COUNT = 86400, GET_SOURCE_PUBLIC_KEY = 1`},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return f.ChangeSource(src) },
			`CHANGE MASTER TO MASTER_HOST = 'db-0.db-headless.ns.svc', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'p\'w\\d', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return f.StartReplica() + ";" + f.StopReplica() + ";" + f.ResetReplica() }, "START REPLICA;STOP REPLICA;RESET REPLICA ALL"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return f.StartReplica() + ";" + f.StopReplica() + ";" + f.ResetReplica() }, "START SLAVE;STOP SLAVE;RESET SLAVE ALL"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return f.GTIDExecuted() }, "SELECT @@GLOBAL.gtid_executed"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return f.GTIDExecuted() }, "SELECT @@GLOBAL.gtid_current_pos"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return f.WaitForGTID("uuid:1-5", 10) }, "SELECT WAIT_FOR_EXECUTED_GTID_SET('uuid:1-5', 10)"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return f.WaitForGTID("0-1000-5", 10) }, "SELECT MASTER_GTID_WAIT('0-1000-5', 10)"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.SetReadOnly(true), ";") }, "SET GLOBAL super_read_only = ON"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.SetReadOnly(false), ";") }, "SET GLOBAL super_read_only = OFF;SET GLOBAL read_only = OFF"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return strings.Join(f.SetReadOnly(true), ";") }, "SET GLOBAL read_only = ON"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.SemiSyncSource(true, 2, 5000), ";") },
			"SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 2;SET GLOBAL rpl_semi_sync_source_timeout = 5000;SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_SYNC;SET GLOBAL rpl_semi_sync_source_enabled = ON"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return strings.Join(f.SemiSyncSource(true, 2, 5000), ";") },
			"SET GLOBAL rpl_semi_sync_master_timeout = 5000;SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC;SET GLOBAL rpl_semi_sync_master_enabled = ON"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return strings.Join(f.SemiSyncReplica(true), ";") }, "SET GLOBAL rpl_semi_sync_slave_enabled = ON"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.SemiSyncReplica(false), ";") }, "SET GLOBAL rpl_semi_sync_replica_enabled = OFF"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return strings.Join(f.PrepareReplica(), ";") }, "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.PrepareReplica(), ";") }, ""},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string {
			return strings.Join(f.RestorePosition("0-1000-5", GTID{Domain: 77777, ServerID: 1001, Seq: 1}), ";")
		},
			"RESET MASTER;SET GLOBAL gtid_binlog_state = '0-1000-5,77777-1001-1';SET GLOBAL gtid_slave_pos = '0-1000-5,77777-1001-1'"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string {
			return strings.Join(f.RestorePosition("", GTID{Domain: 77777, ServerID: 1001, Seq: 1}), ";")
		},
			"RESET MASTER;SET GLOBAL gtid_binlog_state = '77777-1001-1';SET GLOBAL gtid_slave_pos = '77777-1001-1'"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return strings.Join(f.RestorePosition("u:1-5", GTID{Domain: 77777}), ";") },
			"RESET BINARY LOGS AND GTIDS;SET GLOBAL gtid_purged = 'u:1-5'"},
		{v1alpha1.FlavorMySQL, func(f Flavor) string { return f.SemiSyncSourceEnabled() }, "SELECT @@GLOBAL.rpl_semi_sync_source_enabled"},
		{v1alpha1.FlavorMariaDB, func(f Flavor) string { return f.SemiSyncSourceEnabled() }, "SELECT @@GLOBAL.rpl_semi_sync_master_enabled"},
	}
	for _, tc := range cases {
		f := FlavorFor(tc.flavor)
		if f.Name() != tc.flavor {
			t.Fatalf("FlavorFor(%s) = %s", tc.flavor, f.Name())
		}
		if got := tc.got(f); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.flavor, got, tc.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	cases := map[string]string{
		"plain":   "'plain'",
		`it's`:    `'it\'s'`,
		`a\b`:     `'a\\b'`,
		"nul\x00": `'nul\0'`,
		"nl\n":    `'nl\n'`,
	}
	for in, want := range cases {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
}
