#!/usr/bin/env bash
# Where the time of one benchmark query goes: runs it serially (JIT off, so that every
# sample has a symbol) REPS times in one backend and samples that backend with perf.
#
#   test/bench/profile.sh "SELECT nps(nps_agg(nps_score)) FROM survey" [REPS]
#
# Needs perf, the right to attach to the server's processes (root, or the server's user
# with kernel.perf_event_paranoid <= 2), and the database left by test/bench/run.sh on a
# cluster that persists (the PG* variables; BENCH_DB, default cxkpi_bench), e.g.
#   su postgres -c "PGPORT=5499 BENCH_ROWS=2000000 test/bench/run.sh"
#   su postgres -c "PGPORT=5499 test/bench/profile.sh 'SELECT sum(nps_score) FROM survey'"
set -euo pipefail
query=${1:?usage: $0 \"SQL\" [REPS]}
reps=${2:-30}
db=${BENCH_DB:-cxkpi_bench}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
  echo "SET max_parallel_workers_per_gather = 0;"
  echo "SET jit = off;"
  echo "$query \\g /dev/null"                                  # warm-up
  echo "SELECT pg_backend_pid() \\g $tmp/pid"
  echo "SELECT pg_sleep(0.5) \\g /dev/null"
  for _ in $(seq "$reps"); do echo "$query \\g /dev/null"; done
} | psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" &
client=$!
for _ in $(seq 100); do [ -s "$tmp/pid" ] && break; sleep 0.1; done
[ -s "$tmp/pid" ] || { echo "the query failed or the server did not answer" >&2; wait $client; exit 1; }
backend=$(tr -dc 0-9 < "$tmp/pid")

perf record -q -o "$tmp/perf.data" -p "$backend" 2>"$tmp/perf.log" &
recorder=$!
wait $client
sleep 0.2
kill -INT $recorder 2>/dev/null || true
wait $recorder || true
[ -s "$tmp/perf.data" ] || { cat "$tmp/perf.log" >&2; echo "perf recorded nothing" >&2; exit 1; }

echo "== $query  ($reps runs, serial, jit off; share of the backend's CPU samples)"
perf report -i "$tmp/perf.data" --no-children --stdio --sort dso 2>/dev/null | grep '%' | head -5
echo
perf report -i "$tmp/perf.data" --no-children --stdio --sort dso,sym 2>/dev/null | grep '%' >"$tmp/syms"
grep -v '0x0000' "$tmp/syms" | head -"${PROFILE_LINES:-25}"
grep '0x0000' "$tmp/syms" | awk '{ s += $1 } END { if (s > 0) printf "    %.2f%%  in functions without a symbol (static functions of postgres: the expression\n            interpreter, nodeAgg; their names are in postgresql-15-dbgsym, from the Debian debug archive)\n", s }'
