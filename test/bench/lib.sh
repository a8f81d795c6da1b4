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
