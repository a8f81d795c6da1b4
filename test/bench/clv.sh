#!/usr/bin/env bash
# cxkpi benchmark of the CLV models (a benchmark, not a test: a missed target is reported, not
# failed; an SQL error or an rfm_agg that disagrees with the plain SQL fails the run).
#
#   make bench-clv        in a throwaway cluster (pg_virtualenv); make bench runs it too
#   test/bench/clv.sh     against the cluster named by the PG* variables
#
# bgnbd_fit (and mbgnbd_fit, gamma_gamma_fit) over a table of simulated customers, the 12-month
# discounted CLV of every customer, and rfm_agg over the raw transactions against the plain SQL
# that computes the same columns, serially and with 2 parallel workers.
#
# Knobs (environment): BENCH_ROWS (10000000 transactions), BENCH_CUSTOMERS (1000000),
# BENCH_RUNS (3 timed runs of every query in each mode, plus one warm-up), BENCH_DB
# (cxkpi_bench_clv; dropped and re-created).  PGOPTIONS passes settings through.
# Output goes to stdout and to test/bench/out/clv.txt.  See docs/clv.md and docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

rows=${BENCH_ROWS:-10000000}
customers=${BENCH_CUSTOMERS:-1000000}
runs=${BENCH_RUNS:-3}
db=${BENCH_DB:-cxkpi_bench_clv}
[[ $rows =~ ^[0-9]+$ && $rows -ge 1000 ]] || { echo "BENCH_ROWS must be an integer >= 1000" >&2; exit 2; }
[[ $customers =~ ^[0-9]+$ && $customers -ge 100 ]] || { echo "BENCH_CUSTOMERS must be an integer >= 100" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "BENCH_RUNS must be a positive integer" >&2; exit 2; }
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "BENCH_DB must be a plain lower-case name" >&2; exit 2; }
mkdir -p test/bench/out

run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c timezone=UTC" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -v rows="$rows" -v customers="$customers" "$@"
}

bench() {
  local start=$SECONDS
  echo "== cxkpi CLV benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cxkpi:   work tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  run_psql -At -c "SELECT 'server:  ' || version()" \
    -c "SELECT 'config:  ' || string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)
        FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'hash_mem_multiplier', 'jit',
          'max_worker_processes', 'max_parallel_workers', 'max_parallel_workers_per_gather')"
  echo
  echo "== setup"
  run_psql -f test/bench/clv_setup.sql
  run_psql -f test/bench/clv_checks.sql
  echo
  echo "== timing: $runs runs (+1 warm-up) of each query, serial and with 2 workers, round-robin"
  for ((r = 0; r <= runs; r++)); do
    run_psql -c "SELECT bench_round($r)" >/dev/null
    echo "round $r/$runs $([ "$r" -eq 0 ] && echo '(warm-up) ')done at $((SECONDS - start)) s"
  done
  echo
  echo "== results"
  run_psql -f test/bench/clv_report.sql
  echo
  echo "== queries (the label in the tables is the first column)"
  run_psql -At -F ' | ' -c "SELECT label, regexp_replace(sql, '\s+', ' ', 'g') FROM bench_query ORDER BY id"
  echo
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end; total $((SECONDS - start)) s"
}

bench 2>&1 | tee test/bench/out/clv.txt
