// Package mycnf renders the [mysqld] configuration every member of a MySQLCluster
// runs with, for both flavors.
package mycnf

import (
	"maps"
	"slices"
	"strings"

	"github.com/stowage/stowage/api/v1alpha1"
)

// DataPath is where members keep their data (the official images' location).
const DataPath = "/var/lib/mysql"

// managedOptions are the [mysqld] options every member runs with. Replication and
// failover rely on them (GTIDs, row binlogs, durable commits), which is why users
// cannot override the ones CRD validation lists as reserved. Every member starts
// read-only, also after a crash or restart: only the data-plane manager opens the
// primary for writes, once it knows the member is the primary (and has its semi-sync
// settings, which do not survive a restart). The images' entrypoints still initialise
// a data directory under read_only, as their root account is not bound by it.
func managedOptions(flavor v1alpha1.MySQLFlavor) map[string]string {
	opts := map[string]string{
		"datadir":                        DataPath,
		"port":                           "3306",
		"bind_address":                   "*",
		"skip_name_resolve":              "ON",
		"log_bin":                        "binlog",
		"binlog_format":                  "ROW",
		"sync_binlog":                    "1",
		"innodb_flush_log_at_trx_commit": "1",
		"character_set_server":           "utf8mb4",
		"read_only":                      "ON",
	}
	// A replica's IO thread restarts with the server, before the data-plane manager
	// sees it; unless it acknowledges from the start, a primary whose commits wait
	// for an acknowledgement would wait on it for good (semiSyncTimeout).
	switch flavor {
	case v1alpha1.FlavorMariaDB:
		opts["log_slave_updates"] = "ON"
		opts["gtid_strict_mode"] = "ON"
		// The users' administrator has no SUPER (it would write through read_only);
		// with row-based binlogs, routines and triggers are safe to create without it.
		opts["log_bin_trust_function_creators"] = "ON"
		opts["rpl_semi_sync_slave_enabled"] = "ON"
	default:
		opts["gtid_mode"] = "ON"
		opts["enforce_gtid_consistency"] = "ON"
		opts["log_replica_updates"] = "ON"
		// Semi-sync is a plugin in MySQL (built in for MariaDB); loading it here lets
		// the operator switch it with plain SET GLOBAL statements.
		opts["plugin_load_add"] = "rpl_semi_sync_source=semisync_source.so;rpl_semi_sync_replica=semisync_replica.so"
		opts["rpl_semi_sync_replica_enabled"] = "ON"
	}
	return opts
}

// Render renders the [mysqld] section: the user's parameters first, then the
// operator's options, which win.
func Render(flavor v1alpha1.MySQLFlavor, parameters map[string]string) string {
	opts := maps.Clone(parameters)
	if opts == nil {
		opts = map[string]string{}
	}
	maps.Copy(opts, managedOptions(flavor))
	var b strings.Builder
	b.WriteString("# Rendered by the Stowage operator from the MySQLCluster; edits here are overwritten.\n[mysqld]\n")
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		b.WriteString(k)
		if v := opts[k]; v != "" {
			b.WriteString(" = ")
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
