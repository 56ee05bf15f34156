// Package mysql runs MySQLClusters: MySQL 8.4 or MariaDB 10.11+ members in a
// StatefulSet, one primary and its replicas.
//
// The engine describes itself to the shared reconciler (pkg/cluster) as a Blueprint;
// everything engine-specific — the image per flavor, my.cnf, the start command, the
// probes and the credential keys — lives here.
package mysql
