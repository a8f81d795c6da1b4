#!/usr/bin/env bash
# The pg_cron schedule of docs/dashboard.md, run for real: a throwaway cluster (initdb/pg_ctl of
# the PostgreSQL that pg_config names, on a free port in a temporary directory) with
# shared_preload_libraries = 'pg_cron', the schedule of the docs, and a wait for pg_cron to run
# it (1.4, Debian 12: at the next minute; 1.5 and later: every 5 seconds): the job succeeds and
# the rollups get filled.  Skips when pg_cron
# is not installed for this PostgreSQL (Debian: postgresql-15-cron).  Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
pgc=${PG_CONFIG:-pg_config}
bindir=$($pgc --bindir); libdir=$($pgc --pkglibdir); sharedir=$($pgc --sharedir)
if [ ! -f "$libdir/pg_cron.so" ] || [ ! -f "$sharedir/extension/pg_cron.control" ]; then
  echo "1..0 # SKIP pg_cron is not installed for $($pgc --version) (Debian package postgresql-15-cron)"
  exit 0
fi
if [ ! -f "$sharedir/extension/cxkpi.control" ]; then
  echo "1..0 # SKIP cxkpi is not installed for $($pgc --version)"
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cxkpi_cron.XXXXXX")
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$work"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
cleanup() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
q() { "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d postgres "$@"; }

echo "1..9"
# (PGOPTIONS unset for the server: pg_cron's sessions would inherit it from the postmaster.)
if "${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U postgres --auth=trust >"$work/initdb.log" 2>&1 \
   && "${as_pg[@]}" env -u PGOPTIONS "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-p $port -k $work -c listen_addresses='' \
        -c shared_preload_libraries=pg_cron -c cron.database_name=postgres -c cron.host=$work" start >/dev/null; then
  echo "ok 1 - a throwaway cluster with shared_preload_libraries = pg_cron"
else
  echo "not ok 1 - cannot start a cluster"; sed 's/^/# /' "$work/initdb.log" "$work/log" 2>/dev/null; exit 1
fi
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION cxkpi" >/dev/null
q -v customers=300 -f test/bench/dashboard_data.sql >/dev/null
before=$(q -c "SELECT count(*) FROM cxkpi.kpi_values")
# cxkpi.schedule_refresh(): every minute (pg_cron 1.4.2 has no seconds schedules).
jobid=$(q -c "SELECT cxkpi.schedule_refresh()")
if [ -n "$jobid" ] && [ "$before" = 0 ] && [ "$(q -c "SELECT schedule FROM cron.job WHERE jobid = $jobid")" = '* * * * *' ]; then
  echo "ok 2 - cxkpi.schedule_refresh() scheduled job $jobid every minute; the rollups are empty"
else echo "not ok 2 - schedule failed"; fi
# pg_cron 1.5 and later run seconds schedules: there the job runs every 5 seconds instead (the
# waits below take seconds, not up to two minutes), which checks such a schedule for real too.
cron_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
if [ "$(printf '%s\n' 1.5 "$cron_version" | sort -V | head -1)" = 1.5 ]; then
  q -c "SELECT cxkpi.unschedule_refresh()" >/dev/null
  jobid=$(q -c "SELECT cxkpi.schedule_refresh('5 seconds')")
  echo "# pg_cron $cron_version: job $jobid every $(q -c "SELECT schedule FROM cron.job WHERE jobid = $jobid")"
fi
status=
for _ in $(seq 1 150); do
  status=$(q -c "SELECT string_agg(status, ',') FROM cron.job_run_details WHERE jobid = $jobid AND status IN ('succeeded', 'failed')")
  [ -n "$status" ] && break
  sleep 1
done
if [ "${status%%,*}" = succeeded ]; then echo "ok 3 - pg_cron ran the refresh and it succeeded"
else echo "not ok 3 - job status '$status'"; q -c "SELECT status, return_message FROM cron.job_run_details" | sed 's/^/# /'; fi
after=$(q -c "SELECT count(*) FROM cxkpi.kpi_values")
if [ "$after" -gt 0 ]; then echo "ok 4 - the rollups are filled ($after KPI rows)"; else echo "not ok 4 - kpi_values still empty"; fi
n=$(q -c "UPDATE cxkpi.settings SET value = '2025-12-01' WHERE key = 'as_of'" -c "SELECT count(*) FROM cxkpi.kpi_scorecard WHERE value IS NOT NULL")
if [ "$n" -gt 0 ]; then echo "ok 5 - the scorecard answers from the refreshed rollups ($n KPI rows with a value)"
else echo "not ok 5 - the scorecard has no value"; fi
if ! grep -q "cxkpi: refresh" "$work/log"; then echo "ok 6 - the refresh's progress notices stay out of the server log (client_min_messages = warning in the job)"
else echo "not ok 6 - progress notices in the server log"; grep "cxkpi: refresh" "$work/log" | head -3 | sed 's/^/# /'; fi
# Fresh within a minute: a survey answer of a new day, committed now, is on the dashboard at the
# next run of the job, without anyone calling anything.
runs=$(q -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid")
t0=$(date +%s)
q -c "INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
      VALUES (999000001, timestamptz '2027-03-03 12:00+00', 'nps', 10, 10, 'web')" >/dev/null
seen=
for _ in $(seq 1 90); do
  seen=$(q -c "SELECT value FROM cxkpi.kpi_values WHERE kpi = 'nps' AND grain = 'day' AND period_start = '2027-03-03' AND breakdown = 'total'")
  [ -n "$seen" ] && break
  sleep 1
done
waited=$(( $(date +%s) - t0 ))
if [ "$seen" = 100 ] && [ "$waited" -le 75 ]; then echo "ok 7 - a committed answer reached kpi_values by itself in $waited s (NPS of the new day: 100)"
else echo "not ok 7 - new day's NPS '$seen' after $waited s"; fi
if [ "$(q -c "SELECT count(*) FROM cxkpi.change_log")" = 0 ]; then echo "ok 8 - the scheduled refresh consumed the change log"
else echo "not ok 8 - change log rows left"; fi
if [ "$(q -c "SELECT cxkpi.unschedule_refresh()")" = t ] && [ "$(q -c "SELECT count(*) FROM cron.job")" = 0 ] \
   && [ "$(q -c "SELECT cxkpi.unschedule_refresh()")" = f ]; then
  echo "ok 9 - cxkpi.unschedule_refresh() removes the job (then says there is none)"
else echo "not ok 9 - unschedule"; fi
