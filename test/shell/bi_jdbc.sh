#!/usr/bin/env bash
# BI logins from the BI tool's side (docs/bi.md), on a small sample dataset:
#  1. a login made the documented way (CALL cxkpi.create_bi_login) logs in over TCP with its
#     password (psql): its session has search_path cxkpi_bi and the statement timeout, it reads
#     the scorecard unqualified, and nothing of schema cxkpi;
#  2. test/jdbc/BiSync.java, compiled here, does what Metabase's sync does through pgJDBC in a
#     JVM in America/New_York: lists schemas and tables, keeps what the privilege query allows
#     (only cxkpi_bi), opens and reads every view, checks column types and comments, and the
#     period_start key; it reports timings.
# Needs a JDK and pgJDBC (Debian default-jdk-headless, libpostgresql-jdbc-java: test/run.sh and
# test/chroot.sh install them); their absence is a failure.  Emits TAP (plan at the end).
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cxkpi_bi_jdbc
login=cxkpi_jdbc_check
password="bi-$RANDOM-$RANDOM"
jar=${CXKPI_PGJDBC_JAR:-/usr/share/java/postgresql.jar}
work=$(mktemp -d /tmp/cxkpi_bi_jdbc.XXXXXX)
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
  rm -rf "$work"
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $login" >/dev/null 2>&1
}
trap cleanup EXIT
# Every check prints "ok - ..." or "not ok - ..." (comments "# ..."); numbered at the end.
out=$work/tap
check() { if eval "$1"; then echo "ok - $2"; else echo "not ok - $2"; fi; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

t0=$(now_ms)
cleanup
mkdir -p "$work"
q -d postgres -c "CREATE DATABASE $db"
# (ANALYZE as the demo does: refresh_dashboard does not, and until autovacuum has analyzed the
# rollups the planner may read kpi_trend with merge joins that take 20 s at this scale.)
q -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION cxkpi" \
     -c "SELECT count(*) FROM cxkpi.generate_sample_data(scale => 0.02, seed => 42)" -c "CALL cxkpi.refresh_dashboard(false)" \
     -c "ANALYZE" >/dev/null
t1=$(now_ms)
{
  # The documented step (docs/bi.md#a-bi-login)
  check 'q -d $db -c "CALL cxkpi.create_bi_login('"'$login'"', '"'$password'"')" 2>"$work/notice"' \
        "CALL cxkpi.create_bi_login('$login', '...') makes the login"
  echo "# $(cat "$work/notice")"
  as_login() { PGPASSWORD=$password psql -X -q -At -h "${PGHOST:-localhost}" -U $login -d $db "$@" 2>&1; }
  check '[ "$(as_login -c "SELECT current_user")" = "$login" ]' "the login logs in over TCP with its password (psql -h ${PGHOST:-localhost})"
  check '[ "$(as_login -c "SHOW search_path" -c "SHOW statement_timeout" | paste -sd" ")" = "cxkpi_bi 1min" ]' \
        "its session has search_path cxkpi_bi and statement_timeout 60 s"
  check '[ "$(as_login -c "SELECT count(*) > 0 FROM kpi_scorecard")" = t ]' "it reads kpi_scorecard unqualified"
  check '[[ "$(as_login -c "SELECT 1 FROM cxkpi.kpi_scorecard")" == *"permission denied for schema cxkpi"* ]]' \
        "and nothing in schema cxkpi"

  expected=$(q -d $db -c "SELECT period_start FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'")
  if ! command -v javac >/dev/null || ! command -v java >/dev/null || [ ! -r "$jar" ]; then
    echo "not ok - a JDK and pgJDBC are installed (javac, java, $jar): test/run.sh installs default-jdk-headless and libpostgresql-jdbc-java"
  else
    t2=$(now_ms)
    if javac -d "$work" test/jdbc/BiSync.java 2>"$work/javac.err"; then
      echo "ok - test/jdbc/BiSync.java compiles ($(javac -version 2>&1))"
      t3=$(now_ms)
      java -Duser.timezone=America/New_York -cp "$jar:$work" BiSync \
           "jdbc:postgresql://${PGHOST:-localhost}:${PGPORT:-5432}/$db" $login "$password" "$expected" 2>&1
      status=$?
      [ $status -eq 0 ] || echo "# BiSync exited with status $status"
      t4=$(now_ms)
      echo "# ms: sample data and refresh $((t1 - t0)), javac $((t3 - t2)), java $((t4 - t3))"
    else
      echo "not ok - test/jdbc/BiSync.java compiles"
      sed 's/^/# /' "$work/javac.err"
    fi
  fi
} > "$out" 2>&1

awk '/^ok - / { n++; print "ok " n " - " substr($0, 6); next }
     /^not ok - / { n++; bad++; print "not ok " n " - " substr($0, 10); next }
     { sub(/^# ?/, ""); print "# " $0 }
     END { print "1.." n; exit bad > 0 }' "$out"
