#!/usr/bin/env bash
# The Grafana dashboard contrib/grafana/cxkpi.json (docs/dashboard.md#grafana-dashboard), tested
# without Grafana, on the sample data (the database of test/sample_db.sh: DOCTEST_DB):
#  1. the file parses as JSON (Perl's JSON::PP and PostgreSQL's jsonb) and is a dashboard Grafana
#     provisions: uid, title, schemaVersion, unique panel ids on the 24-column grid, every query
#     on the data source variable, a PostgreSQL data source, variables grain, breakdown and kpi;
#     every stat panel maps the status rank 1-4 to red / yellow / off target / on target;
#  2. every query (panels and variables) is expanded as Grafana expands it: the template variables
#     first (single values inserted as they are, quotes doubled), then the PostgreSQL macros of
#     Grafana's backend ($__timeFilter(c) -> c BETWEEN '<from>' AND '<to>' in RFC 3339 UTC,
#     $__timeFrom(), $__timeTo()), with the time range 2024-01-01 to 2026-06-30;
#  3. each runs as a BI login made the documented way (cxkpi.create_bi_login), over TCP with its
#     password, and returns rows of the types its panel needs: time series a "time" column of
#     timestamptz with numeric values (and a text "metric"); stat panels numeric fields; bar
#     gauges a text dimension and a numeric value; tables the columns their overrides name.  The
#     panels on $grain run at every grain, the breakdown panel with every breakdown.
# Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=${DOCTEST_DB:-cxkpi_sample}
login=cxkpi_grafana_check
password="graf-$RANDOM-$RANDOM"
work=$(mktemp -d /tmp/cxkpi_grafana.XXXXXX)
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
  rm -rf "$work"
  q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $login" >/dev/null 2>&1
}
trap cleanup EXIT
q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $login"   # left by an interrupted run
test/sample_db.sh "$db"
q -d "$db" -c "SET client_min_messages = warning" -c "CALL cxkpi.create_bi_login('$login', '$password')"

# PostgreSQL parses it too (jsonb is strict JSON); psql reads the file itself (\set with a
# backquoted command), as the file is larger than one command-line argument may be (128 kB)
pg_parse=$(q -d "$db" 2>&1 <<'SQL'
\set json `cat contrib/grafana/cxkpi.json`
SELECT jsonb_typeof(:'json'::jsonb) || ' ' || jsonb_array_length(:'json'::jsonb -> 'panels');
SQL
)

PGHOST=${PGHOST:-localhost} PGPASSWORD=$password CXKPI_LOGIN=$login CXKPI_DB=$db PG_PARSE="$pg_parse" WORK=$work \
  perl test/grafana/check_dashboard.pl 2>&1
