#!/usr/bin/env bash
# Installs the database servers the data-plane tier runs on loopback (Debian packages).
# Their init scripts are never started: tests run their own processes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install mariadb-server mariadb-client redis-server
