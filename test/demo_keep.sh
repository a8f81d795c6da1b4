#!/usr/bin/env bash
# The demo in a cluster that stays (DEMO_KEEP=1 test/run.sh demo, as root): a Debian cluster
# "cxkpi_demo" of PostgreSQL DEMO_PG (make demo passes the version it builds for; default: the
# version of pg_config) (created with pg_createcluster on port DEMO_PORT, default 5499,
# if it does not exist yet, and started), then test/demo.sh in it.  Local socket connections
# are trusted (a demo cluster on your own machine); TCP connections from localhost need a
# password, as BI tools use.  Remove the cluster with:  pg_dropcluster --stop <version> cxkpi_demo
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=cxkpi_demo
v=${DEMO_PG:-$(${PG_CONFIG:-pg_config} --version | sed 's/^[^0-9]*\([0-9]*\).*/\1/')}
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$v/$cluster"; then
  pg_createcluster "$v" "$cluster" -p "${DEMO_PORT:-5499}" --start -- \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
else
  pg_ctlcluster "$v" "$cluster" start 2>/dev/null || true
fi
port=$(pg_lsclusters -h | awk -v v="$v" -v c="$cluster" '$1 == v && $2 == c {print $3}')
PGHOST=/var/run/postgresql PGPORT=$port PGUSER=postgres PGDATABASE=postgres exec test/demo.sh
