#!/usr/bin/env bash
# cxkpi benchmark of retention_summary (a benchmark, not a test: a missed target is reported,
# not failed; an SQL error or queries that disagree fail the run).
#
#   make bench-retention       in a throwaway cluster (pg_virtualenv); make bench runs it too
#   test/bench/retention.sh    against the cluster named by the PG* variables
#
# Monthly retention for all months and the full cohort matrix, from one summary built over the
# raw activity rows, against two plain-SQL formulations (in retention_setup.sql), serially and
# with 2 parallel workers, and the size of the summary.
#
# Knobs (environment): BENCH_ROWS (10000000 activity rows), BENCH_CUSTOMERS (1000000),
# BENCH_RUNS (3 timed runs of every query in each mode, plus one warm-up), BENCH_DB
# (cxkpi_bench_retention; dropped and re-created).  PGOPTIONS passes settings through.
# Output goes to stdout and to test/bench/out/retention.txt.  See docs/retention.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

rows=${BENCH_ROWS:-10000000}
customers=${BENCH_CUSTOMERS:-1000000}
runs=${BENCH_RUNS:-3}
db=${BENCH_DB:-cxkpi_bench_retention}
bench_int BENCH_ROWS "$rows" 1000
bench_int BENCH_CUSTOMERS "$customers" 100
bench_int BENCH_RUNS "$runs" 1
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out

run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v customers="$customers" "$@"
}

bench() {
  local start=$SECONDS
  bench_header "cxkpi retention benchmark"
  bench_fresh_db "$db"
  echo
  echo "== setup"
  run_psql -f test/bench/retention_setup.sql
  run_psql -f test/bench/retention_checks.sql
  echo
  echo "== timing: $runs runs (+1 warm-up) of each query, serial and with 2 workers, round-robin"
  for ((r = 0; r <= runs; r++)); do
    run_psql -c "SELECT bench_round($r)" >/dev/null
    echo "round $r/$runs $([ "$r" -eq 0 ] && echo '(warm-up) ')done at $((SECONDS - start)) s"
  done
  echo
  echo "== results"
  run_psql -f test/bench/retention_report.sql
  echo
  echo "== queries (the label in the tables is the first column)"
  run_psql -At -F ' | ' -c "SELECT label, regexp_replace(sql, '\s+', ' ', 'g') FROM bench_query ORDER BY id"
  bench_footer "$start"
}

bench 2>&1 | tee test/bench/out/retention.txt
