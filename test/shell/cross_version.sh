#!/usr/bin/env bash
# A database moved across PostgreSQL major versions with pg_dump / pg_restore (docs/operations.md).
# On PostgreSQL 15 (the oldest supported): makes the database of test/fixtures/user_database.sql
# (sample data, edited targets and settings, a user KPI, alerts, stored summaries and models of
# every type), dumps it into tmp_check/xversion/ with what it reads (scorecard, summaries).
# On a later version (test/run.sh test runs 15 first and hands the dump to the chroots of 17
# and 18): restores that dump, refreshes, and checks that the scorecard and the summaries equal
# what 15 read.  Emits TAP.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/fixtures/user_database.sh
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
db=cxkpi_xversion; dir=${CXKPI_XVERSION_DIR:-tmp_check/xversion}
major=$(q -d postgres -c "SHOW server_version_num"); major=$((major / 10000))
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
if [ "$major" = 15 ]; then
  echo "1..2"
  rm -rf "$dir"; mkdir -p "$dir"
  q -d $db -c "CREATE EXTENSION cxkpi" -f test/fixtures/user_database.sql >/dev/null
  q -d $db -c "CALL cxkpi.refresh_dashboard(false)"
  q -d $db -c "$scorecard" > "$dir/scorecard.txt"; q -d $db -c "$summaries" > "$dir/summaries.txt"
  if pg_dump -Fc -d $db -f "$dir/cxkpi.dump"; then echo "ok 1 - pg_dump on PostgreSQL 15 into $dir"; else echo "not ok 1 - pg_dump"; fi
  if [ "$(wc -l < "$dir/scorecard.txt")" -gt 20 ]; then echo "ok 2 - the scorecard to compare has $(wc -l < "$dir/scorecard.txt") rows"
  else echo "not ok 2 - the scorecard is nearly empty"; fi
elif [ ! -f "$dir/cxkpi.dump" ]; then
  echo "1..0 # SKIP no dump from PostgreSQL 15 here (test/run.sh test runs 15 first and hands it over)"
else
  echo "1..3"
  if pg_restore -d $db --exit-on-error "$dir/cxkpi.dump"; then echo "ok 1 - the PostgreSQL 15 dump restores on PostgreSQL $major"
  else echo "not ok 1 - pg_restore of the PostgreSQL 15 dump on $major"; fi
  q -d $db -c "CALL cxkpi.refresh_dashboard(false)"
  if diff "$dir/scorecard.txt" <(q -d $db -c "$scorecard"); then echo "ok 2 - the same scorecard on $major as on 15"
  else echo "not ok 2 - the scorecard differs"; fi
  if diff "$dir/summaries.txt" <(q -d $db -c "$summaries"); then echo "ok 3 - the same stored summaries and models on $major as on 15"
  else echo "not ok 3 - the stored summaries differ"; fi
fi
q -d postgres -c "DROP DATABASE $db"
