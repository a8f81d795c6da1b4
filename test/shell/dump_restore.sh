#!/usr/bin/env bash
# pg_dump of a database holding summary columns, rollup tables and views (survey scores and
# retention) restores into a fresh database with the same values and the same KPI answers.
# Emits TAP.
set -euo pipefail
src=cxkpi_dump_src; dst=cxkpi_dump_dst; dump=$(mktemp /tmp/cxkpi_dump.XXXXXX)
trap 'rm -f "$dump"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
for db in $src $dst; do
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
q -d $src <<'SQL'
CREATE EXTENSION cxkpi;
CREATE TABLE responses AS
SELECT g AS id, date '2026-01-01' + g % 90 AS day, (ARRAY['store','web','app'])[1 + g % 3] AS channel,
       g % 11 AS nps_score, 1 + g % 5 AS csat_score, g % 2 = 0 AS satisfied, 1 + g % 7 AS ces_score
FROM generate_series(1, 20000) g;
CREATE TABLE daily (day date, channel text, nps nps_summary, csat csat_summary,
                    csat_yn csat_summary, ces ces_summary, PRIMARY KEY (day, channel));
INSERT INTO daily SELECT day, channel, nps_agg(nps_score), csat_agg(csat_score, 5),
                         csat_agg(satisfied), ces_agg(ces_score, 7)
FROM responses GROUP BY 1, 2;
CREATE TABLE retention_daily AS
SELECT day, retention_agg(id * 7919 % 5000 - 2500, day) AS s, retention_agg((id::bigint << 33) + id, day, 'week') AS w
FROM responses GROUP BY day;
CREATE VIEW retention AS
SELECT r.* FROM (SELECT rollup(s) AS s FROM retention_daily) q, retention_by_period(q.s, 2) r;
SET client_min_messages = error;  -- the made-up data fit weakly identified models (WARNINGs)
CREATE TABLE clv_rfm AS
SELECT (id % 500) AS customer_id, (rfm_agg(day, (nps_score + 1)::numeric, date '2026-03-31')).*
FROM responses GROUP BY 1;
CREATE TABLE clv_models AS
SELECT bgnbd_fit(frequency, recency, t) AS m, mbgnbd_fit(frequency, recency, t) AS mm,
       gamma_gamma_fit(frequency, monetary_value) AS g, bgnbd_model(0.243, 4.414, 0.793, 2.426) AS m0
FROM clv_rfm;
CREATE VIEW clv_scores AS
SELECT customer_id, clv(m0, g, frequency, recency, t, monetary_value, 52) AS v FROM clv_rfm, clv_models;
CREATE VIEW monthly AS
SELECT date_trunc('month', day)::date AS month, channel, nps(rollup(nps)) AS nps,
       csat(rollup(csat)) AS csat, ces(rollup(ces)) AS ces
FROM daily GROUP BY 1, 2;
SQL
answer="SELECT string_agg(format('%s|%s|%s|%s|%s', day, channel, nps, csat, ces), ';' ORDER BY day, channel) FROM daily"
view="SELECT string_agg(format('%s|%s|%s|%s|%s', month, channel, nps, csat, ces), ';' ORDER BY month, channel) FROM monthly"
rview="SELECT string_agg(format('%s|%s|%s|%s', r::text, (SELECT sum(customers(s)) FROM retention_daily),
       (SELECT string_agg(md5(w::text), ',' ORDER BY day) FROM retention_daily), ''), ';') FROM retention r"
cview="SELECT string_agg(format('%s|%s|%s|%s|%s', m, mm, g, m0, (SELECT sum(v) FROM clv_scores)), ';') FROM clv_models"
before=$(q -d $src -c "$answer"); vbefore=$(q -d $src -c "$view"); rbefore=$(q -d $src -c "$rview")
cbefore=$(q -d $src -c "$cview" 2>/dev/null)

echo "1..6"
if pg_dump -Fc -d $src -f "$dump"; then echo "ok 1 - pg_dump of summaries, a table and a view"; else echo "not ok 1 - pg_dump"; fi
if pg_restore -d $dst --exit-on-error "$dump"; then echo "ok 2 - pg_restore into a fresh database"; else echo "not ok 2 - pg_restore"; fi
after=$(q -d $dst -c "$answer"); vafter=$(q -d $dst -c "$view"); rafter=$(q -d $dst -c "$rview")
cafter=$(q -d $dst -c "$cview" 2>/dev/null)
if [ -n "$before" ] && [ "$before" = "$after" ]; then echo "ok 3 - restored summaries equal the originals"; else echo "not ok 3 - restored summaries differ"; fi
if [ -n "$vbefore" ] && [ "$vbefore" = "$vafter" ]; then echo "ok 4 - the view answers the same after restore"; else echo "not ok 4 - view differs"; fi
if [ -n "$rbefore" ] && [ "$rbefore" = "$rafter" ]; then echo "ok 5 - retention summaries and a retention view restore the same"; else echo "not ok 5 - retention differs after restore"; fi
if [ -n "$cbefore" ] && [ "$cbefore" = "$cafter" ]; then echo "ok 6 - CLV models (fitted and constructed) and a CLV view restore the same"; else echo "not ok 6 - CLV models differ after restore"; fi
for db in $src $dst; do q -d postgres -c "DROP DATABASE $db"; done
