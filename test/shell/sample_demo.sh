#!/usr/bin/env bash
# The demo script (what the README's first command runs) on a small scale: it completes, prints
# every part (data, scorecard with statuses, churn watch list, how to connect), prints no colour
# codes when its output is not a terminal, and the BI login it creates can read the scorecard
# but no raw table.  Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cxkpi_demo_check
out=$(mktemp /tmp/cxkpi_demo_check.XXXXXX)
trap 'rm -f "$out"; psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
echo "1..7"
n=0
check() { n=$((n + 1)); if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
DEMO_DB=$db DEMO_SCALE=0.05 test/demo.sh >"$out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "test/demo.sh exits with 0 (scale 0.05)"
check 'grep -q "^ web_sessions  *|" "$out" && grep -q "^ metric_observations  *|" "$out"' "it lists the generated tables"
check 'grep -Eq "^ Net Promoter Score  *\| [0-9.]+ +\| [0-9.]+ +\| 50.0 +\| (yes|no) +\| (red|yellow|green)$" "$out"' \
      "the scorecard shows NPS for 2025 and 2024 with its target and status"
check '[ "$(grep -c "| \(red\|yellow\|green\|no target\|insufficient data\)$" "$out")" -ge 25 ]' "the scorecard has a status on every line"
check 'grep -q "Top churn-risk, high-value customers" "$out" && grep -q "(10 rows)" "$out"' "the churn watch list has ten customers"
check '! grep -q $'"'"'\033'"'"' "$out"' "no colour codes when the output is not a terminal"
check '[ "$(PGPASSWORD=cxkpi-demo psql -X -At -h localhost -U cxkpi_bi -d $db -c "SELECT count(*) > 0 FROM kpi_scorecard" 2>/dev/null ||
            psql -X -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT count(*) > 0 FROM cxkpi_bi.kpi_scorecard")" = t ] &&
       ! psql -X -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT 1 FROM cxkpi.orders LIMIT 1" >/dev/null 2>&1' \
      "the BI login reads the scorecard (schema cxkpi_bi, its search_path) but not the raw tables"
