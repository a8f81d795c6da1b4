-- Forecasting (ETS): every fit, search and forecast against R's forecast package (the values
-- test/forecast/reference.R stored in test/forecast/*.csv); forecast formulas against hand-worked
-- values; the time axis; text and binary I/O; parallel = serial; errors with their SQLSTATEs.
BEGIN;
SET client_min_messages = error;
SET TimeZone = 'UTC';
SELECT plan(106);

-- ------------------------------------------------------------------ the reference values
CREATE TEMP TABLE ets_series (series text, i int, "time" date, value float8, period int);
\copy ets_series FROM 'test/forecast/series.csv' CSV HEADER
CREATE TEMP TABLE ets_ref (case_id int, series text, model text, damped boolean, method text,
    aicc float8, aic float8, bic float8, loglik float8, sigma float8, alpha float8, beta float8,
    gamma float8, phi float8, n int, h int, forecast_version text, r_version text);
\copy ets_ref FROM 'test/forecast/fits.csv' WITH (FORMAT csv, HEADER, FORCE_NULL (damped, aicc, aic, bic, loglik, alpha, beta, gamma, phi))
CREATE TEMP TABLE ets_ref_fc (case_id int, step int, point float8, lo80 float8, hi80 float8,
    lo95 float8, hi95 float8);
\copy ets_ref_fc FROM 'test/forecast/forecasts.csv' CSV HEADER
CREATE TEMP TABLE ets_ref_cand (case_id int, method text, aicc float8);
\copy ets_ref_cand FROM 'test/forecast/candidates.csv' CSV HEADER

SELECT is((SELECT count(*)::int FROM ets_ref), 66, 'reference: 66 cases');
SELECT is((SELECT count(DISTINCT series)::int FROM ets_series), 30, 'reference: 30 series');
SELECT is((SELECT min(forecast_version) || ' / ' || max(forecast_version) FROM ets_ref), '8.23.0 / 8.23.0',
          'reference: R forecast 8.23.0 (same ETS code as 8.20)');

-- one GROUP BY fits every case; model and damped as given to forecast::ets, period inferred
CREATE TEMP TABLE ours AS
SELECT r.case_id, ets_fit(s."time", s.value, r.model, NULL::int, r.damped) AS m
FROM ets_ref r JOIN ets_series s USING (series) GROUP BY r.case_id;

SELECT is_empty($$SELECT r.case_id, r.series, r.model, r.damped, r.method, method(o.m)
                  FROM ets_ref r JOIN ours o USING (case_id) WHERE method(o.m) <> r.method$$,
                'every case (30 automatic searches, 30 forced forms, 6 partial searches): the model R chooses');
SELECT is_empty($$SELECT r.case_id, r.series, r.aicc, aicc(o.m)
                  FROM ets_ref r JOIN ours o USING (case_id)
                  WHERE abs(aicc(o.m) - r.aicc) > 0.001 * abs(r.aicc)$$,
                'every case: AICc within 0.1 % of R''s');
SELECT is_empty($$SELECT r.case_id, r.series, r.aicc, aicc(o.m)
                  FROM ets_ref r JOIN ours o USING (case_id)
                  WHERE abs(aicc(o.m) - r.aicc) > 1e-9 * abs(r.aicc)$$,
                'every case: AICc equal to R''s to 1e-9 (the same minimiser path)');
SELECT is_empty($$SELECT r.case_id, r.series FROM ets_ref r JOIN ours o USING (case_id)
                  WHERE abs(aic(o.m) - r.aic) > 1e-6 * abs(r.aic) OR abs(bic(o.m) - r.bic) > 1e-6 * abs(r.bic)
                     OR abs(log_likelihood(o.m) - r.loglik) > 1e-6 * abs(r.loglik)
                     OR abs(sigma(o.m) - r.sigma) > 1e-6 * r.sigma$$,
                'every case: AIC, BIC, log-likelihood and sigma equal to R''s (1e-6)');
SELECT is_empty($$SELECT r.case_id, r.series, p.* FROM ets_ref r JOIN ours o USING (case_id), ets_params(o.m) p
                  WHERE abs(p.alpha - r.alpha) > 1e-6
                     OR (p.beta IS NULL) <> (r.beta IS NULL) OR abs(p.beta - r.beta) > 1e-6
                     OR (p.gamma IS NULL) <> (r.gamma IS NULL) OR abs(p.gamma - r.gamma) > 1e-6
                     OR (p.phi IS NULL) <> (r.phi IS NULL) OR abs(p.phi - r.phi) > 1e-6$$,
                'every case: alpha, beta, gamma, phi equal to R''s (1e-6), NULL where R has none');
SELECT is_empty($$SELECT r.case_id, r.series, observations(o.m), period(o.m), s.period
                  FROM ets_ref r JOIN ours o USING (case_id)
                  JOIN (SELECT series, max(period) AS period FROM ets_series GROUP BY series) s USING (series)
                  WHERE observations(o.m) <> r.n OR period(o.m) <> s.period$$,
                'every case: n, and the period inferred from the dates = R''s frequency (7, 12, 4 or 1)');

-- forecasts: h = 2 x period (10 without season), as forecast.ets's default
CREATE TEMP TABLE our_fc AS
SELECT r.case_id, row_number() OVER (PARTITION BY r.case_id ORDER BY f."time")::int AS step, f.*
FROM ets_ref r JOIN ours o USING (case_id), forecast(o.m, r.h) f;
SELECT is((SELECT count(*)::int FROM our_fc), (SELECT count(*)::int FROM ets_ref_fc), 'forecast rows: as many as R''s');
SELECT is_empty($$SELECT case_id, step, c.point, f.point FROM our_fc f JOIN ets_ref_fc c USING (case_id, step)
                  WHERE abs(f.point - c.point) > 0.01 * abs(c.point)$$,
                'every case and step: point forecast within 1 % of R''s');
SELECT is_empty($$SELECT case_id, step, c.lo80, f.lo80, c.hi95, f.hi95 FROM our_fc f JOIN ets_ref_fc c USING (case_id, step)
                  WHERE abs(f.lo80 - c.lo80) > 0.02 * abs(c.lo80) OR abs(f.hi80 - c.hi80) > 0.02 * abs(c.hi80)
                     OR abs(f.lo95 - c.lo95) > 0.02 * abs(c.lo95) OR abs(f.hi95 - c.hi95) > 0.02 * abs(c.hi95)$$,
                'every case and step: 80 % and 95 % bounds within 2 % of R''s');
-- the stricter truth: where cxkpi and forecast 8.23 compute the same formulas, they agree to 1e-6
SELECT is_empty($$SELECT case_id, step FROM our_fc f JOIN ets_ref_fc c USING (case_id, step) JOIN ets_ref r USING (case_id)
                  WHERE r.method NOT IN ('ETS(M,Ad,M)', 'ETS(A,N,A)', 'ETS(M,N,A)')
                    AND (abs(f.point - c.point) > 1e-6 * abs(c.point) OR abs(f.lo95 - c.lo95) > 1e-6 * abs(c.lo95)
                         OR abs(f.hi95 - c.hi95) > 1e-6 * abs(c.hi95))$$,
                'forecasts of the forms whose formulas cxkpi shares with forecast 8.23: equal to 1e-6');
SELECT is_empty($$SELECT case_id, step FROM our_fc f JOIN ets_ref_fc c USING (case_id, step) JOIN ets_ref r USING (case_id)
                  WHERE r.method IN ('ETS(A,N,A)', 'ETS(M,N,A)') AND abs(f.point - c.point) > 1e-6 * abs(c.point)$$,
                'ETS(A,N,A), ETS(M,N,A): point forecasts equal to 1e-6 (only their intervals differ, see docs)');
SELECT ok((SELECT bool_and(f.lo95 < f.lo80 AND f.lo80 < f.point AND f.point < f.hi80 AND f.hi80 < f.hi95) FROM our_fc f),
          'every forecast: lo95 < lo80 < point < hi80 < hi95');

-- the whole search: every candidate of every automatic case, forced, has R's AICc (but those
-- with fewer observations than forecast::ets fits a forced model with, n > npars + 4)
CREATE TEMP TABLE cand_fits AS
SELECT c.case_id, c.method, c.aicc AS r_aicc,
       aicc(ets_fit(s."time", s.value, replace(substr(c.method, 5, 6), ',', ''), NULL::int,
                    c.method LIKE '%Ad%')) AS aicc
FROM ets_ref_cand c JOIN ets_ref r USING (case_id) JOIN ets_series s USING (series)
WHERE c.aicc <> 'Infinity'
  AND r.n > 2 + CASE WHEN c.method LIKE 'ETS(_,A%' THEN 2 ELSE 0 END + CASE WHEN c.method LIKE '%Ad%' THEN 1 ELSE 0 END
            + CASE WHEN c.method LIKE '%,N)' THEN 0 ELSE s.period END + 4
GROUP BY c.case_id, c.method, c.aicc;
SELECT is((SELECT count(*)::int FROM cand_fits), 357,
          'candidates: 357 fitted (every one R estimated, but 3 below the forced-model minimum length)');
SELECT is_empty($$SELECT * FROM cand_fits WHERE abs(aicc - r_aicc) > 0.001 * abs(r_aicc)$$,
                'every candidate of every automatic search: AICc within 0.1 % of R''s');
SELECT is_empty($$SELECT * FROM cand_fits WHERE abs(aicc - r_aicc) > 1e-9 * abs(r_aicc)$$,
                'every candidate of every automatic search: AICc equal to R''s to 1e-9 (the same minimiser path)');

-- ------------------------------------------------------------------ hand-worked forecasts
-- ETS(A,N,N), alpha 0.5, level 10, sigma^2 4: mean 10, var_h = 4 (1 + (h - 1) 0.25)
CREATE TEMP TABLE hand AS SELECT
 '(v1,ETS(A,N,N),period=1,n=20,time=date,last=2024-01-20,step=1d,alpha=0.5,sigma2=4,loglik=-10,aic=1,aicc=1,bic=1,mse=4,init=[9],state=[10],evaluations=0,converged=true)'::ets_model AS ann,
 '(v1,ETS(A,Ad,N),period=1,n=20,time=date,last=2024-01-20,step=1d,alpha=0.5,beta=0.1,phi=0.9,sigma2=4,loglik=-10,aic=1,aicc=1,bic=1,mse=4,init=[9,1],state=[10,2],evaluations=0,converged=true)'::ets_model AS aadn,
 '(v1,ETS(A,A,A),period=4,n=20,time=date,last=2024-03-31,step=3mon,alpha=0.3,beta=0.1,gamma=0.2,sigma2=1,loglik=-10,aic=1,aicc=1,bic=1,mse=1,init=[0,0,0,0,0,0],state=[100,1,4,3,2,1],evaluations=0,converged=true)'::ets_model AS aaa,
 '(v1,ETS(M,N,N),period=1,n=20,time=date,last=2024-01-20,step=1d,alpha=0.5,sigma2=0.01,loglik=-10,aic=1,aicc=1,bic=1,mse=4,init=[9],state=[10],evaluations=0,converged=true)'::ets_model AS mnn,
 '(v1,ETS(M,N,M),period=2,n=20,time=date,last=2024-01-20,step=1d,alpha=0.5,gamma=0.2,sigma2=0.01,loglik=-10,aic=1,aicc=1,bic=1,mse=4,init=[9,1.2,0.8],state=[10,1.2,0.8],evaluations=0,converged=true)'::ets_model AS mnm;
SELECT results_eq($$SELECT round(point::numeric, 9), round(((hi95 - point) / 1.959963984540054)::numeric, 9)
                    FROM hand, forecast(ann, 3)$$,
                  $$VALUES (10::numeric, 2::numeric), (10, round(2 * sqrt(1.25), 9)), (10, round(2 * sqrt(1.5), 9))$$,
                  'ETS(A,N,N): flat forecast, sd sigma sqrt(1 + (h-1) alpha^2)');
SELECT results_eq($$SELECT round(point::numeric, 9), round((((hi80 - point) / 1.2815515655446004)^2)::numeric, 9)
                    FROM hand, forecast(aadn, 3)$$,
                  $$VALUES (round(10 + 0.9 * 2, 9), 4::numeric),
                           (round(10 + (0.9 + 0.81) * 2, 9), round(4 * (1 + (0.5 + 0.1 * 0.9)^2), 9)),
                           (round(10 + (0.9 + 0.81 + 0.729) * 2, 9),
                            round(4 * (1 + (0.5 + 0.1 * 0.9)^2 + (0.5 + 0.1 * (0.9 + 0.81))^2), 9))$$,
                  'ETS(A,Ad,N): l + (phi + ... + phi^h) b; c_j = alpha + beta (phi + ... + phi^j)');
SELECT results_eq($$SELECT "time"::date, round(point::numeric, 9) FROM hand, forecast(aaa, 6)$$,
                  $$VALUES (date '2024-06-30', 102::numeric), ('2024-09-30', 104), ('2024-12-31', 106),
                           ('2025-03-31', 108), ('2025-06-30', 106), ('2025-09-30', 108)$$,
                  'ETS(A,A,A) quarterly on month ends: l + h b + the seasonal state of the quarter, oldest first');
SELECT results_eq($$SELECT round((((hi95 - point) / 1.959963984540054)^2)::numeric, 9) FROM hand, forecast(aaa, 6)$$,
                  $$VALUES (1::numeric), (round(1 + 0.4^2, 9)), (round(1 + 0.4^2 + 0.5^2, 9)),
                           (round(1 + 0.4^2 + 0.5^2 + 0.6^2, 9)), (round(1 + 0.4^2 + 0.5^2 + 0.6^2 + 0.9^2, 9)),
                           (round(1 + 0.4^2 + 0.5^2 + 0.6^2 + 0.9^2 + 0.8^2, 9))$$,
                  'ETS(A,A,A): c_j = alpha + j beta, plus gamma when j is a multiple of the period');
SELECT results_eq($$SELECT round(point::numeric, 9), round((((hi95 - point) / 1.959963984540054)^2)::numeric, 9)
                    FROM hand, forecast(mnn, 2)$$,
                  $$VALUES (10::numeric, 1::numeric),
                           (10, round((1 + 0.01) * (100 + 0.01 * 0.25 * 100) - 100, 9))$$,
                  'ETS(M,N,N): theta_1 = mu^2, theta_2 = mu^2 + sigma2 alpha^2 theta_1, var = (1 + sigma2) theta - mu^2');
SELECT results_eq($$SELECT round(point::numeric, 9), round((((hi95 - point) / 1.959963984540054)^2)::numeric, 9)
                    FROM hand, forecast(mnm, 2)$$,
                  $$VALUES (8::numeric, round(0.01 * 64, 9)), (12, round(144 * ((1 + 0.25 * 0.01) * (1 + 0.01) - 1), 9))$$,
                  'ETS(M,N,M), first season: mean l s; variance sigma2 mean^2, then l^2 s^2 ((1 + alpha^2 sigma2)(1 + sigma2) - 1)');
SELECT results_eq($$SELECT round(point::numeric, 9) FROM hand, forecast(mnm, 3) OFFSET 2$$,
                  $$VALUES (round(8 * (1 + 0.01 * 0.5 * 0.2), 9))$$,
                  'ETS(M,N,M), second season: mean l s (1 + sigma2 alpha gamma)');

-- ------------------------------------------------------------------ the time axis
SELECT results_eq($$SELECT "time"::date FROM (SELECT ets_fit(d, v) AS m FROM
                      (SELECT (date '2024-01-01' + make_interval(months => g + 1) - interval '1 day')::date AS d, 100 + g % 3 AS v
                       FROM generate_series(0, 23) g) q0) q,
                    forecast(m, 3)$$,
                  $$VALUES (date '2026-01-31'), ('2026-02-28'), ('2026-03-31')$$,
                  'monthly series on month ends: forecasts on month ends');
SELECT is((SELECT period(ets_fit(d::date, v)) FROM (SELECT date '2020-01-06' + 7 * g AS d, 10 + g % 5 AS v FROM generate_series(0, 119) g) q),
          52, 'weekly dates: period 52');
SELECT ok((SELECT method(ets_fit(d::date, v)) NOT LIKE '%,A)' AND method(ets_fit(d::date, v)) NOT LIKE '%,M)'
           FROM (SELECT date '2020-01-06' + 7 * g AS d, 10 + g % 5 + g / 10.0 AS v FROM generate_series(0, 119) g) q),
          'weekly: no seasonal model (period 52 is above 24, as forecast::ets)');
SELECT results_eq($$SELECT period(m), "time" FROM (SELECT ets_fit(ts, v) AS m FROM
                      (SELECT timestamptz '2024-05-01 00:00+00' + g * interval '1 hour' AS ts, 50 + 10 * sin(g * pi() / 12) + g % 3 AS v
                       FROM generate_series(0, 24 * 14 - 1) g) q) q2, forecast(m, 2)$$,
                  $$VALUES (24, timestamptz '2024-05-15 00:00+00'), (24, timestamptz '2024-05-15 01:00+00')$$,
                  'hourly timestamptz: period 24, hourly forecast times');
SELECT is((SELECT period(ets_fit(d, v)) FROM (SELECT date '2000-01-01' + make_interval(months => 3 * g) AS d, 10 + g % 4 + g AS v
                                              FROM generate_series(0, 39) g) q),
          4, 'quarterly dates: period 4');
SELECT is((SELECT period(ets_fit(d, v, 'ZZZ', 5)) FROM (SELECT date '2024-01-01' + g AS d, 10 + g % 5 AS v FROM generate_series(0, 59) g) q),
          5, 'a given period wins over the inferred one');
SELECT ok((SELECT method(ets_fit(d, v, 'ZZZ', 5)) ~ ',[AM]\)$' FROM (SELECT date '2024-01-01' + g AS d, 10 + 4 * (g % 5) + (hashint4(g) % 3) AS v FROM generate_series(0, 99) g) q),
          'a clear period-5 pattern is found with period => 5');
SELECT is((SELECT f."time" FROM (SELECT ets_fit(date '2024-01-01' + g, 10 + g % 7) AS m FROM generate_series(0, 59) g) q,
                  forecast(m, 1) f),
          timestamptz '2024-03-01 00:00 UTC', 'a date series forecasts at midnight of the next date (session time zone)');

-- ------------------------------------------------------------------ special series
SELECT results_eq($$SELECT method(m), aicc(m) IS NULL, sigma(m), (ets_params(m)).alpha FROM
                      (SELECT ets_fit(date '2024-01-01' + g, 42) AS m FROM generate_series(0, 29) g) q$$,
                  $$VALUES ('ETS(A,N,N)', true, 0::float8, 0.99999::float8)$$,
                  'a constant series: forecast''s shortcut (simple smoothing, alpha 0.99999, no AICc)');
SELECT results_eq($$SELECT point, lo95, hi95 FROM (SELECT ets_fit(date '2024-01-01' + g, 42) AS m FROM generate_series(0, 29) g) q,
                    forecast(m, 2)$$,
                  $$VALUES (42::float8, 42::float8, 42::float8), (42, 42, 42)$$,
                  'a constant series forecasts itself with zero-width intervals');
SELECT ok((SELECT ets_fit(d, v) IS NULL FROM (SELECT date '2024-01-01' AS d, 1.0::float8 AS v WHERE false) q),
          'no rows: NULL');
SELECT ok((SELECT method(ets_fit(d, v)) LIKE 'ETS(A,%' FROM (SELECT date '2024-01-01' + g AS d, (g % 7) - 2.0 + g / 20.0 AS v
                                                            FROM generate_series(0, 69) g) q),
          'zero and negative values: additive errors only');
SELECT is((SELECT observations(ets_fit(d, v)) FROM (SELECT date '2024-01-01' + g AS d, CASE WHEN g < 60 THEN 10 + g % 7 END AS v
                                                    FROM generate_series(0, 69) g
                                                    UNION ALL SELECT NULL, 5) q),
          60, 'rows with a NULL value at the end or a NULL time are left out');
SELECT ok((SELECT (initial_states(m)).slope IS NULL AND cardinality((initial_states(m)).season) = 7
                  AND abs((SELECT sum(x) FROM unnest((initial_states(m)).season) x)) < 1e-9
                  AND cardinality((last_states(m)).season) = 7
           FROM (SELECT ets_fit(date '2024-01-01' + g, 10 + g % 7 + (hashint4(g) % 3), 'ANA') AS m
                 FROM generate_series(0, 69) g) q),
          'ETS(A,N,A) states: no slope, 7 seasonal states summing to 0 at the start');
SELECT ok((SELECT abs((SELECT sum(x) FROM unnest((initial_states(m)).season) x) - 7) < 1e-9
           FROM (SELECT ets_fit(date '2024-01-01' + g, 100 * (1 + (g % 7) / 10.0) + (hashint4(g) % 3), 'MNM') AS m
                 FROM generate_series(0, 69) g) q),
          'ETS(M,N,M): seasonal states summing to the period at the start');
SELECT results_eq($$SELECT method(ets_fit(d, v, 'ZZZ', NULL, false)) NOT LIKE '%Ad%', method(ets_fit(d, v, 'AAdN')), method(ets_fit(d, v, 'ets(a,ad,n)'))
                    FROM (SELECT date '2024-01-01' + g AS d, 100 + g + 5 * (g % 7) + (hashint4(g) % 4) AS v FROM generate_series(0, 69) g) q$$,
                  $$VALUES (true, 'ETS(A,Ad,N)', 'ETS(A,Ad,N)')$$,
                  'damped => false; the ''AAdN'' and ''ETS(A,Ad,N)'' forms (any case)');

-- ------------------------------------------------------------------ I/O
SELECT ok((SELECT bool_and(m::text::ets_model = m) FROM ours), 'text round trip of every fitted model');
SELECT ok((SELECT bool_and(m::text = m::text::ets_model::text) FROM ours), 'text output is canonical');
SELECT is((SELECT ets_fit(d, v)::text FROM (SELECT date '2024-01-01' + g AS d, 42 AS v FROM generate_series(0, 9) g) q),
          '(v1,ETS(A,N,N),period=7,n=10,time=date,last=2024-01-10,step=1d,alpha=0.99999,sigma2=0,loglik=NaN,aic=NaN,aicc=NaN,bic=NaN,mse=0,init=[42],state=[42],evaluations=0,converged=true,constant=true)',
          'the text form of a constant series'' model');
CREATE TEMP TABLE models AS SELECT case_id, m FROM ours;
SELECT lives_ok(format('COPY models TO %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_ets.bin'), 'COPY TO binary');
CREATE TEMP TABLE models2 (LIKE models);
SELECT lives_ok(format('COPY models2 FROM %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_ets.bin'), 'COPY FROM binary');
SELECT is((SELECT count(*)::int FROM models a JOIN models2 b USING (case_id) WHERE a.m = b.m), 66, 'binary round trips give equal models');
SELECT is((SELECT count(*)::int FROM (SELECT DISTINCT m FROM (SELECT m FROM ours UNION ALL SELECT m FROM ours) q) d),
          (SELECT count(*)::int FROM (SELECT DISTINCT m::text FROM ours) q), 'DISTINCT over models (hashing)');
SELECT ok((SELECT bool_and(a.m <> b.m) FROM ours a JOIN ours b ON a.case_id = b.case_id + 1
           WHERE a.m::text <> b.m::text), '<> on models');
SELECT is(length(ets_model_send(m)), 122 + 16 * 13, 'ETS(A,N,A) of a monthly series is 330 bytes on the wire')
FROM ours WHERE case_id = 2;
SELECT is(length(ets_model_send(m)), 122 + 16 * 1, 'ETS(A,N,N) 138 bytes') FROM ours WHERE case_id = 31;

CREATE TEMP TABLE ok_lit AS SELECT m::text AS lit FROM ours WHERE case_id = 35;
SELECT throws_ok(format('SELECT %L::ets_model', bad.txt), '22P02', NULL, 'text: ' || why)
FROM ok_lit, LATERAL (VALUES
    ('', 'empty'),
    (replace(lit, '(v1,', '(v2,'), 'version 2'),
    (replace(lit, ')', ''), 'unterminated'),
    (lit || 'x', 'trailing characters'),
    (replace(lit, 'ETS(A,A,A)', 'ETS(A,M,A)'), 'multiplicative trend'),
    (replace(lit, 'ETS(A,A,A)', 'ETS(A,A,M)'), 'A errors with M season'),
    (replace(lit, 'ETS(A,A,A)', 'ETS(A,N,A)'), 'states and parameters of another form'),
    (replace(lit, 'period=12', 'period=30'), 'seasonal period above 24'),
    (replace(lit, 'period=12', 'period=11'), 'too many states for the period'),
    (regexp_replace(lit, 'alpha=[^,]*', 'alpha=1.5'), 'alpha above 1'),
    (regexp_replace(lit, 'alpha=[^,]*', 'alpha=0'), 'alpha 0'),
    (regexp_replace(lit, 'beta=[^,]*', 'beta=NaN'), 'NaN beta'),
    (regexp_replace(lit, 'sigma2=[^,]*', 'sigma2=-1'), 'negative sigma2'),
    (regexp_replace(lit, 'aicc=[^,]*', 'aicc=Infinity'), 'infinite AICc'),
    (regexp_replace(lit, 'init=\[[^,]*', 'init=[Infinity'), 'infinite state'),
    (regexp_replace(lit, 'last=[^,]*', 'last=2024-02-30'), 'invalid date'),
    (regexp_replace(lit, 'step=[^,]*', 'step=0mon'), 'step 0'),
    (regexp_replace(lit, 'step=[^,]*', 'step=1us'), 'microsecond step on a date series'),
    (regexp_replace(lit, 'n=[^,]*', 'n=0'), 'n 0'),
    (regexp_replace(lit, 'converged=[a-z]*', 'converged=yes'), 'converged not a boolean')
) AS bad(txt, why);

CREATE TEMP TABLE bin_m (m ets_model);
CREATE TEMP TABLE good AS SELECT ets_model_send(m) AS b FROM ours WHERE case_id = 35;
SELECT lives_ok(format('COPY bin_m FROM %L (FORMAT binary)', tap.binary_copy_file(b)), 'a crafted binary value loads') FROM good;
SELECT throws_ok(format('COPY bin_m FROM %L (FORMAT binary)', tap.binary_copy_file(payload)), '22P03', NULL, 'binary: ' || why)
FROM good, LATERAL (VALUES
    ('\x'::bytea, 'empty'),
    (set_byte(b, 0, 2), 'version 2'),
    (set_byte(b, 1, 0), 'error type N'),
    (set_byte(b, 3, 3), 'season type 3'),
    (set_byte(b, 7, 3), 'time type 3'),
    (substr(b, 1, length(b) - 1), 'truncated'),
    (b || '\x00'::bytea, 'one byte too many'),
    (overlay(b placing int4send(11) from 11 for 4), 'period 11 with 14 states'),
    (overlay(b placing float8send(2) from 39 for 8), 'alpha 2'),
    (overlay(b placing float8send('NaN') from 39 for 8), 'NaN alpha'),
    (overlay(b placing float8send(-1) from 71 for 8), 'negative sigma2'),
    (overlay(b placing int4send(27) from 119 for 4), '27 states')
) AS bad(payload, why);

-- ------------------------------------------------------------------ parallel = serial
CREATE TABLE ets_par AS SELECT * FROM ets_series WHERE series LIKE 'daily%';
ANALYZE ets_par;
CREATE TEMP TABLE par_serial AS SELECT series, ets_fit("time", value) AS m FROM ets_par GROUP BY series;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
SELECT ok(tap.plan_of('SELECT series, ets_fit("time", value) FROM ets_par GROUP BY series') LIKE '%Partial%Aggregate%',
          'the parallel plan splits ets_fit (partial + finalize: combine, serial, deserial)');
SELECT set_eq('SELECT series, ets_fit("time", value)::text FROM ets_par GROUP BY series',
              'SELECT series, m::text FROM par_serial', 'parallel fits equal serial fits, bytewise');
SELECT is((SELECT ets_fit("time", value)::text FROM ets_par WHERE series = 'daily_flat'),
          (SELECT m::text FROM par_serial WHERE series = 'daily_flat'), 'a parallel ungrouped fit equals the serial one');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- ------------------------------------------------------------------ errors
SELECT throws_ok($$SELECT ets_fit(d, v) FROM (VALUES (date '2024-01-01', 1.0), ('2024-01-02', 2), ('2024-01-04', 3),
                   ('2024-01-05', 4), ('2024-01-06', 5), ('2024-01-07', 6), ('2024-01-08', 7), ('2024-01-09', 8)) q(d, v)$$,
                 '22023', 'the series has a gap between 2024-01-02 and 2024-01-04', 'a missing day: 22023 naming the gap');
SELECT throws_ok($$SELECT ets_fit(d, v) FROM (VALUES (date '2024-01-01', 1.0), ('2024-02-01', 2), ('2024-03-01', 3),
                   ('2024-05-01', 4), ('2024-06-01', 5), ('2024-07-01', 6), ('2024-08-01', 7), ('2024-09-01', 8)) q(d, v)$$,
                 '22023', 'the series has a gap between 2024-03-01 and 2024-05-01', 'a missing month: 22023');
SELECT throws_ok($$SELECT ets_fit(d, v) FROM (VALUES (date '2024-01-01', 1.0), ('2024-01-02', 2), ('2024-01-02', 3),
                   ('2024-01-03', 4)) q(d, v)$$,
                 '22023', 'the series has two values at 2024-01-02', 'a duplicate time: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10 + g % 3) FROM generate_series(0, 5) g$$,
                 '22023', 'the series is too short for ETS(Z,Z,Z)', 'six observations: too short');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01', 1.0)$$, '22023', 'the series is too short for ETS(Z,Z,Z)', 'one observation');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10 + g % 7, 'ZZA') FROM generate_series(0, 12) g$$,
                 '22023', 'the series is too short for ETS(Z,Z,A)', 'a seasonal model needs more than period + 6 observations');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, g % 7, 'MNN') FROM generate_series(0, 29) g$$,
                 '22023', 'multiplicative errors need positive values, and the series has 0 at 2024-01-01',
                 'M errors on a series with 0: 22023 naming the value');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10 + g % 7, 'ANM') FROM generate_series(0, 29) g$$,
                 '22023', 'ETS(A,N,M) is not an admissible combination', 'A errors with M season: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + 7 * g, 10 + g % 7, 'ZZA') FROM generate_series(0, 199) g$$,
                 '22023', 'seasonal period 52 is too long for ETS(Z,Z,A)', 'a forced season of period 52: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + 3 * g, 10 + g % 7, 'ZZM') FROM generate_series(0, 29) g$$,
                 '22023', 'ETS(Z,Z,M) asks for a season, and the series has no seasonal period',
                 'a forced season without a period: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10, 'XYZ') FROM generate_series(0, 29) g$$,
                 '22P02', 'invalid ETS model specification "XYZ"', 'a malformed specification: 22P02');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10, 'AMN') FROM generate_series(0, 29) g$$,
                 '0A000', 'multiplicative trends are not supported (model "AMN")', 'a multiplicative trend: 0A000');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10, 'ANN', NULL, true) FROM generate_series(0, 29) g$$,
                 '22023', NULL, 'damped without trend: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10, CASE WHEN g < 5 THEN 'ZZZ' ELSE 'ZZN' END) FROM generate_series(0, 29) g$$,
                 '22023', 'the model specification changes within one series, from ''ZZZ'' to ''ZZN''',
                 'a specification that changes within a group: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 10, 'ZZZ', 0) FROM generate_series(0, 29) g$$,
                 '22023', 'invalid seasonal period 0', 'period 0: 22023');
SELECT throws_ok($$SELECT ets_fit(date '2024-01-01' + g, 'NaN') FROM generate_series(0, 29) g$$,
                 '22023', 'ets_fit value NaN at 2024-01-01 is not finite', 'a NaN value: 22023');
SELECT throws_ok($$SELECT ets_fit('infinity'::date, 1)$$, '22023', 'ets_fit cannot use an infinite date', 'an infinite date: 22023');
SELECT throws_ok($$SELECT * FROM forecast((SELECT m FROM ours WHERE case_id = 1), 0)$$, '22023', 'invalid forecast horizon 0',
                 'horizon 0: 22023');
SELECT throws_ok($$SELECT * FROM forecast((SELECT m FROM ours WHERE case_id = 1), 10001)$$, '22023', 'invalid forecast horizon 10001',
                 'horizon above 10000: 22023');

SELECT * FROM finish();
ROLLBACK;
