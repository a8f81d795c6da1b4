#!/usr/bin/env bash
# CRoaring mallocs its bitmaps outside PostgreSQL's memory contexts; cxkpi frees them from
# memory-context reset callbacks.  This check runs 1,000 queries that fail while bitmaps are
# allocated (in a transition, a rollup, a window aggregate and a cancelled cohort matrix) in
# one backend, and checks that neither the backend's resident memory (VmRSS, read from
# /proc by psql's \! in the same session) nor its memory contexts grow.  Emits TAP.
set -euo pipefail
db=cxkpi_leak
work=$(mktemp -d "${TMPDIR:-/tmp}/cxkpi_leak.XXXXXX")
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -d $db <<'SQL'
CREATE EXTENSION cxkpi;
-- 20,000 customers whose ids differ in their high 32 bits: one malloc'd bitmap each.
CREATE TABLE act AS
SELECT (g::bigint << 32) + g AS customer_id, date '2024-01-01' + g % 400 AS active_on
FROM generate_series(1, 20000) AS g;
CREATE TABLE daily AS
SELECT active_on, retention_agg(customer_id, active_on, 'day') AS s FROM act GROUP BY 1;
CREATE TABLE big AS SELECT rollup(s) AS s FROM daily;
SQL

# The failing queries, one of four kinds in turn.
failing() {
  local n=$1
  for ((i = 1; i <= n; i++)); do
    case $((i % 4)) in
      0) echo "SELECT retention_agg(customer_id, active_on, CASE WHEN customer_id = 85899345940000 THEN 'bogus' ELSE 'month' END) FROM act;" ;;
      1) echo "SELECT rollup(s) FROM (SELECT s FROM daily UNION ALL SELECT retention_agg(1, date '2024-01-01', 'week')) u;" ;;
      2) echo "SELECT customers(retention_agg(customer_id, active_on) OVER (ORDER BY customer_id)) / (customer_id % 300 - 17) FROM act;" ;;
      3) echo "SET statement_timeout = 5; SELECT count(*) FROM cohort_retention((SELECT s FROM big)); RESET statement_timeout;" ;;
    esac
  done
}
{
  echo "SELECT pg_backend_pid() AS pid \\gset"
  echo "\\setenv BACKEND_PID :pid"
  echo "\\set ON_ERROR_STOP 0"
  failing 100                                   # warm-up: caches, allocator arenas
  echo "\\! grep VmRSS /proc/\$BACKEND_PID/status > $work/rss_before"
  echo "SELECT sum(total_bytes) FROM pg_backend_memory_contexts \\g $work/cxt_before"
  failing 1000
  echo "\\! grep VmRSS /proc/\$BACKEND_PID/status > $work/rss_after"
  echo "SELECT sum(total_bytes) FROM pg_backend_memory_contexts \\g $work/cxt_after"
} | psql -X -q -At -d $db >"$work/out" 2>"$work/err" || true

errors=$(grep -c '^ERROR' "$work/err" || true)
kb() { awk '{print $2}' "$1"; }
echo "1..3"
if [ "$errors" -ge 1050 ]; then echo "ok 1 - $errors of 1,100 queries failed as intended"
else echo "not ok 1 - only $errors of 1,100 queries failed"; sed 's/^/# /' "$work/err" | sort | uniq -c | head; fi
if [ -s "$work/rss_before" ] && [ -s "$work/rss_after" ]; then
  before=$(kb "$work/rss_before"); after=$(kb "$work/rss_after")
  if [ $((after - before)) -lt 8192 ]; then
    echo "ok 2 - backend VmRSS $before kB -> $after kB after 1,000 failing queries (grows < 8 MB)"
  else
    echo "not ok 2 - backend VmRSS grew from $before kB to $after kB: malloc'd bitmaps leak"
  fi
else
  echo "not ok 2 - could not read the backend's VmRSS"
fi
cb=$(cat "$work/cxt_before" 2>/dev/null || echo 0); ca=$(cat "$work/cxt_after" 2>/dev/null || echo 0)
if [ "$cb" -gt 0 ] && [ $((ca - cb)) -lt 1048576 ]; then
  echo "ok 3 - memory contexts $cb -> $ca bytes (grow < 1 MB)"
else
  echo "not ok 3 - memory contexts grew from $cb to $ca bytes"
fi
q -d postgres -c "DROP DATABASE $db"
