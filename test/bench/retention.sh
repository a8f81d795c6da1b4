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
# (cxkpi_bench_retention; dropped and re-created), BENCH_ID_SHAPE (dense: ids 1 .. customers;
# hash32: the same customers under ids spread over 32 bits; hash64: over the whole bigint range).  PGOPTIONS passes settings through.
# Output goes to stdout and to test/bench/out/retention.txt.  See docs/retention.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

rows=${BENCH_ROWS:-10000000}
customers=${BENCH_CUSTOMERS:-1000000}
runs=${BENCH_RUNS:-3}
db=${BENCH_DB:-cxkpi_bench_retention}
id_shape=${BENCH_ID_SHAPE:-dense}
bench_int BENCH_ROWS "$rows" 1000
bench_int BENCH_CUSTOMERS "$customers" 100
bench_int BENCH_RUNS "$runs" 1
bench_dbname BENCH_DB "$db"
case $id_shape in dense|hash32|hash64) ;; *) echo "BENCH_ID_SHAPE must be dense, hash32 or hash64" >&2; exit 2 ;; esac
mkdir -p test/bench/out

run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v customers="$customers" -v id_shape="$id_shape" "$@"
}

bench_standard retention "cxkpi retention benchmark" 2>&1 | tee test/bench/out/retention.txt
