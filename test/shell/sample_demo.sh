#!/usr/bin/env bash
# The demo script (what the README's first command runs) on a small scale: it completes, prints
# every part (data, scorecard with statuses, churn watch list, how to connect), prints no colour
# codes when its output is not a terminal, and the BI login it creates can read the scorecard
# but no raw table; it reports the progress of the generator and of the refresh, in order with
# its output, says how many years the data hold as they are, and in a temporary cluster prints no
# connection details for it.  Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cxkpi_demo_check
out=$(mktemp /tmp/cxkpi_demo_check.XXXXXX)
out2=$(mktemp /tmp/cxkpi_demo_check.XXXXXX)
trap 'rm -f "$out" "$out2"; psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
echo "1..13"
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
check '[ "$(PGPASSWORD=cxkpi-demo psql -X -At -h localhost -U cxkpi_bi -d $db -c "SELECT count(*) > 0 FROM cxkpi.kpi_scorecard" 2>/dev/null ||
            psql -X -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT count(*) > 0 FROM cxkpi.kpi_scorecard")" = t ] &&
       ! psql -X -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT 1 FROM cxkpi.orders LIMIT 1" >/dev/null 2>&1' \
      "the BI login reads the scorecard but not the raw tables"
# Progress: each stage of the generator and of the refresh as a NOTICE (what, rows, seconds so
# far), after the line that announces it (one stream, in order).
check 'grep -Eq "^  cxkpi: orders: [0-9,]+ rows \([0-9]+\.[0-9] s\)$" "$out" &&
       grep -Eq "^  cxkpi: refresh kpi_values: [0-9,]+ rows \([0-9]+\.[0-9] s\)$" "$out" &&
       [ "$(grep -c "^  cxkpi: " "$out")" -ge 26 ]' "it reports every stage of the generator and of the refresh (what, rows, seconds)"
check '[ "$(grep -n "^Generating the sample" "$out" | cut -d: -f1)" -lt "$(grep -n "^  cxkpi: customers:" "$out" | cut -d: -f1)" ] &&
       [ "$(grep -n "^  cxkpi: sample data done" "$out" | cut -d: -f1)" -lt "$(grep -n "^Refreshing the dashboard" "$out" | cut -d: -f1)" ] &&
       [ "$(grep -n "^Refreshing the dashboard" "$out" | cut -d: -f1)" -lt "$(grep -n "^  cxkpi: refresh daily_surveys:" "$out" | cut -d: -f1)" ]' \
      "the progress comes in order with the demo's own lines"
check '[ "$(psql -X -At -d $db -c "SELECT CASE WHEN count(DISTINCT extract(year FROM ordered_at)) = 5 THEN 5 END FROM cxkpi.orders")" = 5 ] &&
       [ "$(psql -X -At -d $db -c "SELECT min(extract(year FROM active_at))::integer::text || max(extract(year FROM active_at))::integer FROM cxkpi.loyalty_activity")" = 20212025 ] &&
       [ "$(psql -X -At -d $db -c "SELECT min(extract(year FROM responded_at))::integer::text || max(extract(year FROM responded_at))::integer FROM cxkpi.survey_responses")" = 20242025 ] &&
       grep -q "two years of CX data, five of orders and loyalty activity, 2021-2025" "$out"' \
      "it says what the data hold: five years of orders and loyalty activity (2021-2025), two of CX data"
check '[ -z "$(PGOPTIONS="-c client_min_messages=warning" psql -X -q -d $db -c "CALL cxkpi.refresh_dashboard()" 2>&1)" ]' \
      "client_min_messages = warning silences the progress"
DEMO_TEMPORARY=1 DEMO_DB=$db DEMO_SCALE=0.05 test/demo.sh >"$out2" 2>&1
rc2=$?
check '[ $rc2 -eq 0 ] && grep -q "Demo done in [0-9]* s, scale 0.05.  Its cluster was temporary" "$out2" && grep -q "DEMO_KEEP=1 test/run.sh demo" "$out2"' \
      "in a temporary cluster (make demo) it says the cluster is gone and how to keep one"
check '! grep -Eq "psql -h|password|port [0-9]+," "$out2" && grep -q "^    psql -h .* -p [0-9]* " "$out" && grep -q "password cxkpi-demo" "$out"' \
      "connection details only for a cluster that stays"
