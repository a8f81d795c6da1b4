# Shared by the benchmark scripts (source it): knob checks, the report header and footer, and a
# fresh database.  Each script keeps its own run_psql with its own psql variables.

# bench_int NAME VALUE MIN: VALUE must be an integer >= MIN, else exit 2 naming the knob.
bench_int() {
  [[ $2 =~ ^[0-9]+$ && $2 -ge $3 ]] || { echo "$1 must be an integer >= $3" >&2; exit 2; }
}

# bench_dbname NAME VALUE: a plain lower-case database name (it is dropped and re-created).
bench_dbname() {
  [[ $2 =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "$1 must be a plain lower-case name" >&2; exit 2; }
}

# bench_header TITLE: what ran, where, on what, under which load.
bench_header() {
  local lib; lib="$(pg_config --pkglibdir)/cxkpi.so"
  echo "== $1, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cxkpi:   work tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'); $lib installed $(date -u -r "$lib" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
}

# bench_fresh_db DB: drop and re-create DB, then print the server version and the settings
# that matter for the timings.
bench_fresh_db() {
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" -At -c "SELECT 'server:  ' || version()" \
    -c "SELECT 'config:  ' || string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
        FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_worker_processes',
          'max_parallel_workers', 'max_parallel_workers_per_gather', 'parallel_leader_participation')"
}

# bench_footer START: the load at the end and the total time since START (a $SECONDS value).
bench_footer() {
  echo
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end; total $((SECONDS - $1)) s"
}

# bench_rounds RUNS START: the round-robin timing of a benchmark whose setup defined
# bench_round(r) (round 0 is the warm-up); needs the caller's run_psql.
bench_rounds() {
  echo "== timing: $1 runs (+1 warm-up) of each query, serial and with 2 workers, round-robin"
  for ((r = 0; r <= $1; r++)); do
    run_psql -c "SELECT bench_round($r)" >/dev/null
    echo "round $r/$1 $([ "$r" -eq 0 ] && echo '(warm-up) ')done at $((SECONDS - $2)) s"
  done
}

# bench_list_queries: the timed queries (table bench_query), by the label the report uses.
bench_list_queries() {
  echo
  echo "== queries (the label in the tables is the first column)"
  run_psql -At -F ' | ' -c "SELECT label, regexp_replace(sql, '\s+', ' ', 'g') FROM bench_query ORDER BY id"
}

# bench_standard NAME TITLE: the benchmark laid out as test/bench/NAME_setup.sql (data and the
# bench_query / bench_round definitions), NAME_checks.sql (the formulations agree) and
# NAME_report.sql (medians and ratios), in a fresh database; needs $db, $runs and run_psql.
bench_standard() {
  local start=$SECONDS
  bench_header "$2"
  bench_fresh_db "$db"
  echo
  echo "== setup"
  run_psql -f "test/bench/$1_setup.sql"
  run_psql -f "test/bench/$1_checks.sql"
  echo
  bench_rounds "$runs" "$start"
  echo
  echo "== results"
  run_psql -f "test/bench/$1_report.sql"
  bench_list_queries
  bench_footer "$start"
}

# bench_server_ms SQL RUNS: the median server-side milliseconds of SQL (planning + execution, as
# EXPLAIN ANALYZE reports them) over RUNS runs after one warm-up; needs the caller's q.
bench_server_ms() {
  local sql=$1 runs=$2 i t all=()
  q -c "EXPLAIN (ANALYZE, TIMING OFF) $sql" >/dev/null        # warm-up
  for ((i = 0; i < runs; i++)); do
    t=$(q -c "EXPLAIN (ANALYZE, TIMING OFF) $sql" |
        awk '/^Planning Time:/ {p = $3} /^Execution Time:/ {e = $3} END {printf "%.2f", p + e}')
    all+=("$t")
  done
  printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# bench_sample_db DB SCALE RECREATE: the sample data at SCALE (seed 42, alerting off while it is
# generated, the dashboard rebuilt, analyzed) in database DB, made when DB does not exist or
# RECREATE is 1, and kept; says how long it took.  Needs the caller's q (on DB).
bench_sample_db() {
  local db=$1 scale=$2 t0=$SECONDS
  if [ "$3" = 1 ] || [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    q >/dev/null <<SQL
CREATE EXTENSION cxkpi;
SELECT cxkpi.set_alerting(false);
SELECT count(*) FROM cxkpi.generate_sample_data(scale => $scale, seed => 42);
CALL cxkpi.rebuild_dashboard(false);
SELECT cxkpi.set_alerting(true);
VACUUM ANALYZE;
SQL
    echo "data:    sample data scale $scale made and rebuilt in $((SECONDS - t0)) s"
  fi
}
