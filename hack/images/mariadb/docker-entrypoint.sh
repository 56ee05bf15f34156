#!/bin/sh
# Entry point of Stowage's offline MariaDB image. On an empty data directory it creates
# the system tables and gives root (local and remote) the password from
# MARIADB_ROOT_PASSWORD, as the official image does; then it runs the server. The
# password travels through stdin, never through arguments.
set -eu

case "${1:-}" in -*) set -- mariadbd "$@" ;; esac
if [ "${1:-}" != mariadbd ] && [ "${1:-}" != mysqld ]; then
	exec "$@"
fi

datadir=/var/lib/mysql
if [ ! -d "$datadir/mysql" ]; then
	password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
	if [ -z "$password" ]; then
		echo "docker-entrypoint: the data directory is empty and MARIADB_ROOT_PASSWORD is not set" >&2
		exit 1
	fi
	echo "docker-entrypoint: initialising $datadir" >&2
	mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/dev/null
	socket=/run/mysqld/init.sock
	"$@" --skip-networking --socket="$socket" &
	pid=$!
	i=0
	until mariadb-admin --socket="$socket" ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 60 ]; then echo "docker-entrypoint: the server did not start" >&2; exit 1; fi
		sleep 1
	done
	quoted=$(printf '%s' "$password" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
	# Not binlogged: each member initialises itself, and statements with its own
	# server id in the binlog would be errant transactions once it replicates.
	mariadb --socket="$socket" -uroot <<SQL
SET SESSION sql_log_bin = 0;
-- mariadb-install-db also creates root@127.0.0.1, root@::1 and root@<hostname> without
-- a password; only root@localhost and root@% (below) may exist.
DELETE FROM mysql.global_priv WHERE Host <> 'localhost';
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$quoted';
CREATE USER 'root'@'%' IDENTIFIED BY '$quoted';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
	kill "$pid"
	wait "$pid" || true
	echo "docker-entrypoint: initialised" >&2
fi
exec "$@"
