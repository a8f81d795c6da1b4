-- The dashboard on the hand-built dataset of test/tap/70_dashboard.sql (where every value is
-- checked against an independent computation): the scorecard and a month of the timeseries,
-- here so that installcheck-parallel runs the refresh and the views under forced parallel plans.
SET client_min_messages = warning;  -- the refresh reports its progress as NOTICEs, with timings
\i test/fixtures/dashboard_data.sql
CALL cxkpi.refresh_dashboard();

SELECT section, kpi, breakdown, dimension, round(value::numeric, 4) AS value, sample_size,
       round(ci_lower::numeric, 3) AS ci_lower, round(ci_upper::numeric, 3) AS ci_upper, target, status,
       round(value_year_ago::numeric, 4) AS year_ago, round(yoy_change::numeric, 4) AS yoy
FROM cxkpi.kpi_scorecard
ORDER BY section, kpi, breakdown, dimension;

SELECT grain, period_start, kpi, round(value::numeric, 4) AS value, numerator, denominator
FROM cxkpi.kpi_timeseries
WHERE breakdown = 'total' AND kpi IN ('aov', 'nps', 'return_rate', 'retention_rate')
  AND period_start >= '2025-01-01' AND period_start < '2025-04-01' AND grain IN ('month', 'quarter')
ORDER BY grain, period_start, kpi;
