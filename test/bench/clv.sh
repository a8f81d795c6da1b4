#!/usr/bin/env bash
# cxkpi benchmark of the CLV models (a benchmark, not a test: a missed target is reported, not
# failed; an SQL error or an rfm_agg that disagrees with the plain SQL fails the run).
#
#   make bench-clv        in a throwaway cluster (pg_virtualenv); make bench runs it too
#   test/bench/clv.sh     against the cluster named by the PG* variables
#
# bgnbd_fit, mbgnbd_fit and gamma_gamma_fit over tables of simulated customers of three shapes
# (friendly: day resolution, ages up to a year; all distinct: continuous time; two years at day
# resolution), the worst shapes also as ratios to the friendly one, the 12-month
# discounted CLV of every customer, and rfm_agg over the raw transactions against the plain SQL
# that computes the same columns, serially and with 2 parallel workers.
#
# Knobs (environment): BENCH_ROWS (10000000 transactions), BENCH_CUSTOMERS (1000000),
# BENCH_RUNS (3 timed runs of every query in each mode, plus one warm-up), BENCH_DB
# (cxkpi_bench_clv; dropped and re-created).  PGOPTIONS passes settings through.
# Output goes to stdout and to test/bench/out/clv.txt.  See docs/clv.md and docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

rows=${BENCH_ROWS:-10000000}
customers=${BENCH_CUSTOMERS:-1000000}
runs=${BENCH_RUNS:-3}
db=${BENCH_DB:-cxkpi_bench_clv}
bench_int BENCH_ROWS "$rows" 1000
bench_int BENCH_CUSTOMERS "$customers" 100
bench_int BENCH_RUNS "$runs" 1
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out

run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v customers="$customers" "$@"
}

bench_standard clv "cxkpi CLV benchmark" 2>&1 | tee test/bench/out/clv.txt
