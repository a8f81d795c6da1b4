#!/usr/bin/env bash
# cxkpi benchmark of retention_summary by id shape (issue 20; a benchmark, not a test: a missed
# target is reported, not failed; an SQL error or summaries that disagree fail the run).
#
#   test/bench/retention_shapes.sh    against the cluster named by the PG* variables
#
# The retention benchmark's activity (retention_setup.sql) under dense ids, ids spread over 32
# bits and ids spread over 64 bits, in one database and one run: the size of each summary, its
# build time from the rows, retention_by_period and cohort_retention of the stored summary, and
# its text output + input, with the ratio of each to dense ids.
#
# Knobs (environment): BENCH_ROWS (10000000 activity rows), BENCH_CUSTOMERS (1000000),
# BENCH_RUNS (3 timed runs of every task, plus one warm-up), BENCH_DB
# (cxkpi_bench_retention_shapes; dropped and re-created).  PGOPTIONS passes settings through.
# Output goes to stdout and to test/bench/out/retention_shapes.txt.  See docs/retention.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

rows=${BENCH_ROWS:-10000000}
customers=${BENCH_CUSTOMERS:-1000000}
runs=${BENCH_RUNS:-3}
db=${BENCH_DB:-cxkpi_bench_retention_shapes}
bench_int BENCH_ROWS "$rows" 1000
bench_int BENCH_CUSTOMERS "$customers" 100
bench_int BENCH_RUNS "$runs" 1
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out

{
  start=$SECONDS
  bench_header "cxkpi retention benchmark by id shape"
  bench_fresh_db "$db"
  echo
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC -c bench.runs=$runs" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v customers="$customers" -v runs="$runs" -f test/bench/retention_shapes.sql
  bench_footer "$start"
} 2>&1 | tee test/bench/out/retention_shapes.txt
