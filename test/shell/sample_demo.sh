#!/usr/bin/env bash
# The demo script (what the README's first command runs) on a small scale: it completes, prints
# every part (data, scorecard with flags and statuses, churn watch list, win-back list, how to
# connect), no scorecard row is green while it misses its target (nor off target while it meets
# it), the ticket forecasts by channel and the KPIs projected to the end of the week with their
# course (on course only when the projection meets the target), no customer on the watch list is gone, it prints no colour codes when its output is not a
# terminal, and the BI login it creates can read the scorecard but no raw table; it writes the
# dashboard page and says where; it reports the progress of the generator and of the refresh, in
# order with its output, says how many years the data hold as they are, and in a temporary cluster
# prints no connection details for it.  Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cxkpi_demo_check
out=$(mktemp /tmp/cxkpi_demo_check.XXXXXX)
out2=$(mktemp /tmp/cxkpi_demo_check.XXXXXX)
trap 'rm -f "$out" "$out2"; psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
echo "1..20"
n=0
check() { n=$((n + 1)); if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
DEMO_DB=$db DEMO_SCALE=0.05 test/demo.sh >"$out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "test/demo.sh exits with 0 (scale 0.05)"
check 'grep -q "^ web_sessions  *|" "$out" && grep -q "^ metric_observations  *|" "$out"' "it lists the generated tables"
check 'grep -Eq "^ Net Promoter Score  *\| [0-9.]+ +\| [0-9.]+ +\| >= 50.0 +\| (red|yellow)? *\| (red|yellow|off target|green)$" "$out"' \
      "the scorecard shows NPS for 2025 and 2024 with its target, flag and status"
check '[ "$(grep -c "| \(red\|yellow\|off target\|green\|no target\|insufficient data\)$" "$out")" -ge 25 ]' "the scorecard has a status on every line"
# The scorecard's rows: KPI | 2025 | 2024 | target (">= x" or "< x") | flag | status.  Values and
# targets are printed at the same precision, and rounding keeps order, so a value that meets
# ">= x" prints at least x, one that meets "< x" at most x (and the other way round when missed).
scorecard_rows() { awk '/^Scorecard 2025/ { on = 1 } on && /^\([0-9]+ rows\)/ { exit } on' "$out" | grep -E '^ [^|]+\|[^|]*\|[^|]*\| *(>=|<) '; }
contradictions() {
  scorecard_rows | awk -F'|' '
    function num(s) { gsub(/[^0-9.-]/, "", s); return s + 0 }
    { status = $6; gsub(/^ +| +$/, "", status); value = $2; target = $4
      if (value ~ /^ *$/ || status !~ /^(green|off target)$/) next
      ge = (target ~ /^ *>=/); v = num(value); t = num(target)
      if (status == "green" && ((ge && v < t) || (!ge && v > t))) { print "green off target:" $0 }
      if (status == "off target" && ((ge && v > t) || (!ge && v < t))) { print "off target on target:" $0 } }'
}
check '[ "$(scorecard_rows | grep -c "| off target$")" -ge 10 ] && [ -z "$(contradictions)" ]' \
      "no scorecard row is green while it misses its target, nor off target while it meets it"
check '[ "$(psql -X -At -d $db -c "SELECT count(*) FROM cxkpi.kpi_scorecard WHERE status = '"'"'green'"'"' AND NOT meets_target")" = 0 ] &&
       [ "$(psql -X -At -d $db -c "SELECT count(*) FROM cxkpi.kpi_trend WHERE status = '"'"'green'"'"' AND NOT meets_target")" = 0 ]' \
      "and none in the demo database, at any grain"
check 'grep -q "^Churn watch list" "$out" && grep -q "^Win-back list" "$out" && [ "$(grep -c "^(10 rows)" "$out")" -ge 2 ]' \
      "the churn watch list and the win-back list have ten customers each"
# The watch list's rows: rank | customer | orders | spend | last order | weeks since | P(alive) | ...
gone_p_alive=$(psql -X -At -d $db -c "SELECT cxkpi.setting('gone_p_alive')" 2>/dev/null)
watch_gone() {
  awk '/^Churn watch list/ { on = 1 } on && /^\([0-9]+ rows\)/ { exit } on' "$out" | grep -E '^ +[0-9]+ \|' |
    awk -F'|' -v t="$gone_p_alive" '{ p = $7; gsub(/ /, "", p); if (p + 0 < t + 0) print }'
}
check '[ -n "$gone_p_alive" ] && [ -z "$(watch_gone)" ] &&
       [ "$(psql -X -At -d $db -c "SELECT count(*) FROM cxkpi.churn_watch_list w JOIN cxkpi.customer_value v USING (customer_id) WHERE v.gone OR w.p_alive < $gone_p_alive")" = 0 ]' \
      "no customer on the watch list is gone (P(alive) below gone_p_alive), in the output and in the database"
check 'grep -q "^Recommended interventions" "$out" && grep -Eq "^ +10 \| Service-recovery call +\|" "$out" && grep -Eq "^ +70 \| Referral or review request +\|" "$out"' \
      "it shows the recommended interventions, every built-in rule with its customers"
# The forecasts: next 4 weeks of tickets by channel, "point (lo80-hi80)" per channel and in all.
tickets_rows() { awk '/^Support tickets forecast by channel/ { on = 1 } on && /^\([0-9]+ rows\)/ { exit } on' "$out" |
                 grep -E '^ [0-9]{4}-[0-9]{2}-[0-9]{2} \|( [0-9]+ \([0-9-]+-[0-9]+\) +\|){3} [0-9]+ \([0-9-]+-[0-9]+\) *$'; }
check '[ "$(tickets_rows | wc -l)" = 4 ] &&
       [ "$(tickets_rows | head -1 | cut -c2-11)" = "$(psql -X -At -d $db -c "SELECT min(period_start) FROM cxkpi_bi.kpi_forecast WHERE measure = '"'"'support_tickets'"'"' AND grain = '"'"'week'"'"' AND point IS NOT NULL")" ]' \
      "it shows the next 4 weeks of support tickets forecast by channel (chat, email, phone, all) with 80 % intervals"
# The projection: KPI | to date | projected | target (">= x" or "< x") | course; AOV by channel.
projection_rows() { awk '/^On course\?/ { on = 1 } on && /^\([0-9]+ rows\)/ { exit } on' "$out" | grep -E '^ [^|]+\|[^|]*\|[^|]*\| *(>=|<) '; }
course_contradictions() {
  projection_rows | awk -F'|' '
    function num(s) { gsub(/[^0-9.-]/, "", s); return s + 0 }
    { course = $5; gsub(/^ +| +$/, "", course); if (course !~ /^(on|off) course$/) next
      ge = ($4 ~ /^ *>=/); v = num($3); t = num($4)
      if (course == "on course" && ((ge && v < t) || (!ge && v > t))) print "on course off target:" $0
      if (course == "off course" && ((ge && v > t) || (!ge && v < t))) print "off course on target:" $0 }'
}
check '[ "$(projection_rows | grep -c "| \(on\|off\) course *$")" -ge 8 ] &&
       [ "$(projection_rows | grep -Ec "^     (app|store|web_desktop|web_mobile) +\|.*\| (on|off) course *$")" = 4 ] &&
       projection_rows | grep -Eq "^ Average order value +\|" && [ -z "$(course_contradictions)" ]' \
      "it projects each KPI with a target to the end of the week, AOV by order channel too, on course only when the target is met"
check '! grep -q $'"'"'\033'"'"' "$out"' "no colour codes when the output is not a terminal"
check '[ "$(PGPASSWORD=cxkpi-demo psql -X -At -h localhost -U cxkpi_bi -d $db -c "SELECT count(*) > 0 FROM kpi_scorecard" 2>/dev/null ||
            psql -X -q -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT count(*) > 0 FROM cxkpi_bi.kpi_scorecard")" = t ] &&
       ! psql -X -At -d $db -c "SET ROLE cxkpi_bi" -c "SELECT 1 FROM cxkpi.orders LIMIT 1" >/dev/null 2>&1' \
      "the BI login reads the scorecard (schema cxkpi_bi, its search_path) but not the raw tables"
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
page=$(grep -o "^The dashboard as a page: [^ ]*" "$out" | sed "s/^The dashboard as a page: //")
check '[ -n "$page" ] && [ -s "$page" ] && head -c 15 "$page" | grep -q "<!DOCTYPE html>" && grep -q "<title>Retail Customer Experience</title>" "$page" &&
       grep -q "^On any database with cxkpi:  psql -X -At -c .SELECT cxkpi_bi.dashboard_page().  *> dashboard.html$" "$out"' \
      "it writes the dashboard page and says where ($page) and how to write it on any database"
DEMO_TEMPORARY=1 DEMO_DB=$db DEMO_SCALE=0.05 test/demo.sh >"$out2" 2>&1
rc2=$?
check '[ $rc2 -eq 0 ] && grep -q "Demo done in [0-9]* s, scale 0.05.  Its cluster was temporary" "$out2" && grep -q "DEMO_KEEP=1 test/run.sh demo" "$out2"' \
      "in a temporary cluster (make demo) it says the cluster is gone and how to keep one"
check '! grep -Eq "psql -h|password|port [0-9]+," "$out2" && grep -q "^    psql -h .* -p [0-9]* " "$out" && grep -q "password cxkpi-demo" "$out"' \
      "connection details only for a cluster that stays"
