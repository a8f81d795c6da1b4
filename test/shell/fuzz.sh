#!/usr/bin/env bash
# Fuzz test of every cxkpi type (nps_summary, csat_summary, ces_summary, return_summary,
# retention_summary, bgnbd_model, mbgnbd_model, gamma_gamma_model), seeded and so deterministic:
#  - text input: mutants of valid values (characters replaced, inserted, deleted, spans
#    repeated, fields swapped, numbers and dates replaced by hostile ones, and for
#    retention_summary sets damaged byte by byte under canonical base64) are refused with
#    22P02 or accepted; an accepted value prints a text that reads back to the same text and
#    to an equal value with the same hash, and its binary form reads back to it;
#  - binary input (COPY FORMAT binary): byte-level mutants of the binary forms (bits, bytes,
#    spans, lengths, counts and doubles overwritten) are refused with 22P03 or pass the same
#    checks;
#  - calls: every function of the extension that takes the type (aggregate support functions
#    aside) on accepted values, with ordinary and extreme other arguments: refusals only with
#    a documented SQLSTATE (22000, 22003, 22023, 54000), never an internal error (XX000) or a
#    damaged-value error (XX001) on a value that input accepted, and no NaN or infinite result;
#  - and the server never crashes.
# FUZZ_SCALE (default 1) multiplies the mutant counts; FUZZ_SEED (default 1) changes the
# seeds.  About 40 seconds at scale 1 (30,000 mutants).  Emits TAP; runs in its own database
# (superuser).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
db=cxkpi_fuzz
scale=${FUZZ_SCALE:-1}
seed=${FUZZ_SEED:-1}
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
  || { echo "Bail out! cannot create $db"; exit 2; }
q -d $db -c "CREATE EXTENSION cxkpi" -f test/fuzz/fuzz.sql > /dev/null || { echo "Bail out! cannot set up the fuzz driver"; exit 2; }

types=(nps_summary csat_summary ces_summary return_summary retention_summary bgnbd_model mbgnbd_model gamma_gamma_model)
echo "1..$((3 * ${#types[@]} + 1))"

# Seeds: valid values of every shape (empty, extreme counts, every scale, money scales, every
# period, every kind of set container, ids in several 64-bit buckets, fitted models with NaN).
q -d $db > /dev/null <<'SQL' || { echo "Bail out! cannot make the seeds"; exit 2; }
CREATE TABLE fuzz.seeds (typ text, value text);
INSERT INTO fuzz.seeds
SELECT 'nps_summary', v FROM (VALUES ('(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('(v1,n=12,counts={0,0,0,1,0,0,2,1,3,2,3})'),
    ('(v1,n=9223372036854775807,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807})')) AS s(v)
UNION ALL
SELECT 'csat_summary', v FROM (VALUES ('(v1,scale=5,n=10,counts={0,1,2,3,4})'), ('(v1,scale=2,n=3,counts={1,2})'),
    ('(v1,scale=3,n=0,counts={0,0,0})'), ('(v1,scale=7,n=7,counts={1,1,1,1,1,1,1})'),
    ('(v1,scale=10,n=55,counts={1,2,3,4,5,6,7,8,9,10})')) AS s(v)
UNION ALL
SELECT 'ces_summary', v FROM (VALUES ('(v1,scale=7,n=3,counts={0,0,0,1,0,1,1})'),
    ('(v1,scale=5,n=15,counts={1,2,3,4,5})')) AS s(v)
UNION ALL
SELECT 'return_summary', v FROM (VALUES
    ('(v1,orders=10,with_return=3,fully_returned=1,items=25,items_returned=4,valued_orders=9,valued_with_return=3,order_value=1234.50,returned_value=99.90)'),
    ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)'),
    ('(v1,orders=2,with_return=1,fully_returned=1,items=2,items_returned=1,valued_orders=2,valued_with_return=1,order_value=0.000000000000000003,returned_value=0.000000000000000001)'),
    ('(v1,orders=5,with_return=5,fully_returned=5,items=5,items_returned=5,valued_orders=5,valued_with_return=5,order_value=170141183460469231731687303715884105727,returned_value=5)')) AS s(v)
UNION ALL
SELECT 'retention_summary', s::text FROM (
    SELECT '(v1,period=month,periods={})'::retention_summary
    UNION ALL SELECT retention_agg(g % 50, date '2024-01-01' + g % 120) FROM generate_series(1, 400) AS g
    UNION ALL SELECT retention_agg(g, date '2024-01-01' + g / 2000, 'day') FROM generate_series(1, 6000) AS g
    UNION ALL SELECT retention_agg((random_g * 7919) % 65536, date '2023-12-25' + random_g % 3 * 7, 'week')
              FROM generate_series(1, 5000) AS random_g
    UNION ALL SELECT retention_agg(c, d, p) FROM (VALUES (-1::bigint, date '2024-04-01', 'quarter'),
              (9223372036854775807, '2024-04-01', 'quarter'), (4294967296, '2024-07-01', 'quarter'),
              (0, '2025-01-01', 'quarter')) AS v(c, d, p)
    UNION ALL SELECT retention_agg(g << 20, date '2000-01-01' + g * 400, 'year') FROM generate_series(1, 30) AS g) AS v(s)
UNION ALL
SELECT 'bgnbd_model', v FROM (VALUES ('(v1,r=0.243,alpha=4.414,a=0.793,b=2.426)'),
    ('(v1,r=0.243,alpha=4.414,a=0.793,b=2.426,customers=2357,repeaters=946,ll=-9582.4,se_r=0.0126,se_alpha=0.38,se_a=0.18,se_b=0.75,converged=true,iterations=31,grad_norm=1e-07,penalizer=0)'),
    ('(v1,r=5e-324,alpha=1.7976931348623157e+308,a=1e-300,b=1e+300,customers=1,repeaters=1,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=false,iterations=2147483647,grad_norm=NaN,penalizer=0.5)')) AS s(v)
UNION ALL
SELECT 'mbgnbd_model', v FROM (VALUES ('(v1,r=1,alpha=2,a=3,b=4)'),
    ('(v1,r=0.525,alpha=6.183,a=0.891,b=1.614,customers=2357,repeaters=946,ll=-9590.2,se_r=0.03,se_alpha=0.5,se_a=NaN,se_b=0.2,converged=true,iterations=40,grad_norm=3e-08,penalizer=0.001)')) AS s(v)
UNION ALL
SELECT 'gamma_gamma_model', v FROM (VALUES ('(v1,p=6.25,q=3.74,v=15.44)'), ('(v1,p=1,q=0.5,v=3)'),
    ('(v1,p=6.25,q=3.74,v=15.44,customers=946,repeaters=946,ll=-4000.5,se_p=0.5,se_q=0.1,se_v=1.2,converged=true,iterations=12,grad_norm=1e-09,penalizer=0)')) AS s(v);
SQL

n_text=$((3000 * scale)); n_bin=$((800 * scale)); n_vals=$((16 * scale))
i=0
for t in "${types[@]}"; do
  i=$((i + 1))
  out=$(q -d $db -c "CREATE UNLOGGED TABLE fuzz.bin_$t (v $t)" \
          -c "SELECT fuzz.run_text('$t', ARRAY(SELECT value FROM fuzz.seeds WHERE typ = '$t'), $n_text, 0.$seed$i)" \
          -c "SELECT fuzz.run_binary('$t', $n_bin, 0.$seed${i}1)" \
          -c "SELECT fuzz.run_calls('$t', $n_vals, 0.$seed${i}2)" 2>&1)
  if [ $? -ne 0 ]; then
    echo "not ok - $t text: the fuzz run stopped"
    echo "$out" | head -8 | sed 's/^/#   /'
    if ! q -d $db -c "SELECT 1" > /dev/null 2>&1; then echo "Bail out! the server is down after fuzzing $t"; exit 1; fi
    echo "not ok - $t binary input"; echo "not ok - $t calls"
    continue
  fi
  for phase in text binary calls; do
    case $phase in text) where="phase IN ('seed', 'text input')";; binary) where="phase = 'binary input'";; calls) where="phase = 'call'";; esac
    counts=$(q -d $db -c "SELECT format('%s tried, %s accepted, %s refused', tried, accepted, refused) FROM fuzz.counts WHERE typ = '$t' AND phase = '$phase'")
    nfail=$(q -d $db -c "SELECT count(*) FROM fuzz.failures WHERE typ = '$t' AND $where")
    if [ "$nfail" -eq 0 ]; then
      echo "ok - $t $phase: $counts"
    else
      echo "not ok - $t $phase: $counts, $nfail failure(s)"
      q -d $db -c "SELECT format('#   %s: %s <- %s', phase, detail, left(input, 300)) FROM fuzz.failures WHERE typ = '$t' AND $where LIMIT 10"
    fi
  done
done
if q -d $db -c "SELECT 1" > /dev/null 2>&1; then echo "ok - the server is up after fuzzing"; else echo "not ok - the server is up after fuzzing"; fi
rm -f "/tmp/cxkpi_fuzz_"*.bin 2>/dev/null
q -d postgres -c "DROP DATABASE IF EXISTS $db" > /dev/null 2>&1
