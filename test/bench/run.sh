#!/usr/bin/env bash
# cxkpi benchmark of the survey-score summaries (a benchmark, not a test: a missed
# target is reported, not failed; an SQL error or a wrong result fails the run).
#
#   make bench                 in a throwaway cluster (pg_virtualenv, shared_buffers=1GB)
#   test/run.sh bench          the same, after installing what is missing (Debian 12)
#   test/bench/run.sh          against the cluster named by the PG* variables
#
# Knobs (environment): BENCH_ROWS (10000000), BENCH_RUNS (5 timed runs of every query
# in each mode, plus one warm-up), BENCH_TARGET_RUNS (30 runs in all of the four NPS
# queries the targets are judged on), BENCH_BUDGET (330 s for all timing of the survey
# queries; past it no more rounds start, but every query gets at least 5 runs),
# BENCH_RETURNS_ROWS (10000000 orders for the returns benchmark, test/bench/returns.sql,
# which runs afterwards in the same database; 0 skips it), BENCH_DB (cxkpi_bench;
# dropped and re-created).
# PGOPTIONS passes settings through, e.g. PGOPTIONS='-c jit=off' make bench.
# Output goes to stdout and to test/bench/out/latest.txt.  See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

rows=${BENCH_ROWS:-10000000}
runs=${BENCH_RUNS:-5}
target_runs=${BENCH_TARGET_RUNS:-30}
budget=${BENCH_BUDGET:-330}
returns_rows=${BENCH_RETURNS_ROWS:-10000000}
db=${BENCH_DB:-cxkpi_bench}
bench_int BENCH_ROWS "$rows" 1000
bench_int BENCH_RUNS "$runs" 1
bench_int BENCH_TARGET_RUNS "$target_runs" 0
bench_int BENCH_BUDGET "$budget" 0
bench_int BENCH_RETURNS_ROWS "$returns_rows" 0
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out

run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v runs="$runs" "$@"
}

bench() {
  local start=$SECONDS
  bench_header "cxkpi benchmark"
  bench_fresh_db "$db"

  echo
  echo "== setup"
  run_psql -f test/bench/setup.sql
  run_psql -f test/bench/checks.sql

  echo
  echo "== timing: $runs runs (+1 warm-up) of each query, serial and with 2 workers, round-robin;"
  echo "   then the NPS queries the targets use, up to $target_runs runs in all (budget $budget s)"
  run_psql -c "SELECT bench_all($runs, least(5, $runs), $target_runs, interval '$budget s')" >/dev/null

  echo
  echo "== results"
  run_psql -f test/bench/report.sql

  echo
  echo "== queries (the label in the tables is the select list)"
  run_psql -At -F ' | ' -c "SELECT id, sql FROM bench_query ORDER BY id"

  # The returns benchmark (its own header says what it measures), in the same database:
  # it uses bench_explain() from setup.sql.  It reports a mismatch instead of failing.
  if [ -f test/bench/returns.sql ] && [ "$returns_rows" -gt 0 ]; then
    echo
    local tmp; tmp=$(mktemp)
    run_psql -v rows="$returns_rows" -f test/bench/returns.sql 2>&1 | tee "$tmp"
    if grep -q MISMATCH "$tmp"; then rm -f "$tmp"; echo "returns: results differ" >&2; exit 1; fi
    rm -f "$tmp"
  fi
  bench_footer "$start"
}

bench 2>&1 | tee test/bench/out/latest.txt
