#!/usr/bin/env bash
# test/sample_db.sh [--recreate] [DB]: the database DB (default cxkpi_sample) holding the sample
# data as the README's tour makes it (cxkpi.generate_sample_data(scale => 1, seed => 42), the
# dashboard refreshed, the alert states evaluated), for the pgTAP suites that check the sample
# data (test/tap/*_sample*.sql) and the documentation examples (test/shell/doctest.sh).  Made if
# it does not exist yet (--recreate: made again); built under another name and renamed at the
# end, so that an interrupted run leaves no half-filled database.  Uses the PG* variables.
set -euo pipefail
recreate=0
if [ "${1:-}" = --recreate ]; then recreate=1; shift; fi
db=${1:-cxkpi_sample}
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
exists=$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")
if [ "$exists" = 1 ] && [ $recreate = 0 ]; then exit 0; fi
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${db}_new" -c "CREATE DATABASE ${db}_new"
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" q -d "${db}_new" >/dev/null <<'SQL'
CREATE EXTENSION cxkpi;
SELECT cxkpi.set_alerting(false);
SELECT count(*) FROM cxkpi.generate_sample_data(scale => 1, seed => 42);
CALL cxkpi.refresh_dashboard(false);
SELECT cxkpi.set_alerting(true);
ANALYZE;
SQL
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "ALTER DATABASE ${db}_new RENAME TO $db"
