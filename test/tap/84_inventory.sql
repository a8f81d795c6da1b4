-- Inventory (issue 17, seed 002) on a small hand-built dataset: the snapshot table refuses bad
-- rows, stock turnover, days of inventory and the stock-out rate equal plain SQL over the raw
-- rows at every grain (and the hand-worked values in the comments), the scorecard, the time
-- series and the section views show them, a writer loads snapshots, an incremental refresh
-- equals a rebuild, and the snapshots are dumped as user data.
BEGIN;
SET client_min_messages = warning;
SELECT plan(35);

UPDATE cxkpi.settings SET value = '2025-04-15' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = 'month' WHERE key = 'scorecard_grain';

-- Constraints
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', -1, 0, 0)$$, '23514',
                 'new row for relation "inventory_snapshots" violates check constraint "inventory_snapshots_units_non_negative"',
                 'negative units on hand are refused, naming the rule');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 'NaN', 10, 0)$$, '23514', NULL,
                 'NaN units are refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 1, -10, 0)$$, '23514', NULL,
                 'a negative stock value is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 1, 'NaN', 0)$$, '23514', NULL,
                 'a NaN stock value is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 1, 10, -5)$$, '23514', NULL,
                 'a negative cost of goods sold is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 0, 10, 0)$$, '23514',
                 'new row for relation "inventory_snapshots" violates check constraint "inventory_snapshots_value_of_units"',
                 'a stock value without units on hand is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('infinity', 's1', 'A1', 'apparel', 1, 10, 0)$$, '23514', NULL,
                 'an infinite date is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', ' ', 'A1', 'apparel', 1, 10, 0)$$, '23514', NULL,
                 'an empty location is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', '', 'apparel', 1, 10, 0)$$, '23514', NULL,
                 'an empty SKU is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', '', 1, 10, 0)$$, '23514', NULL,
                 'an empty category is refused');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', NULL, 10, 0)$$, '23502', NULL,
                 'units on hand are required');
SELECT throws_ok($$INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-01', 's1', 'A1', 'apparel', 1, 10, 0),
                                                                ('2025-03-01', 's1', 'A1', 'apparel', 2, 20, 0)$$, '23505', NULL,
                 'one snapshot per day, location and SKU');

-- The data, loaded by a writer
SET LOCAL ROLE cxkpi_writer;
INSERT INTO cxkpi.inventory_snapshots (snapshot_date, location, sku, category, on_hand_units, on_hand_value, cogs) VALUES
    ('2025-03-03', 's1', 'A1', 'apparel', 10, 100, 20), ('2025-03-03', 's1', 'A2', 'apparel', 0, 0, 5),
    ('2025-03-03', 'web', 'A1', 'apparel', 6, 60, 10), ('2025-03-03', 's1', 'H1', 'home', 4, 200, 0),
    ('2025-03-04', 's1', 'A1', 'apparel', 8, 80, 20), ('2025-03-04', 's1', 'A2', 'apparel', 5, 50, 0),
    ('2025-03-04', 'web', 'A1', 'apparel', 0, 0, 60), ('2025-03-04', 's1', 'H1', 'home', 3, 150, 50),
    ('2025-03-05', 's1', 'A1', 'apparel', 7, 70, 10), ('2025-03-05', 's1', 'A2', 'apparel', 4, 40, 10),
    ('2025-03-05', 'web', 'A1', 'apparel', 9, 90, 0),
    ('2025-04-01', 's1', 'H1', 'home', 2, 100, 50);
RESET ROLE;
SELECT is((SELECT array_agg(DISTINCT bucket ORDER BY bucket) FROM cxkpi.change_log WHERE fact = 'inventory_snapshots'),
          ARRAY[date '2025-03-03', '2025-03-04', '2025-03-05', '2025-04-01'],
          'a writer''s insert logs the snapshot dates (local days already)');
CALL cxkpi.refresh_dashboard();

CREATE FUNCTION pg_temp.kv(k text, b text DEFAULT 'total', d text DEFAULT 'all', g text DEFAULT 'week', p date DEFAULT '2025-03-03')
    RETURNS text LANGUAGE sql AS $$
    SELECT (trim_scale(round(value::numeric, 6)), trim_scale(round(numerator::numeric, 6)),
            trim_scale(round(denominator::numeric, 6)), sample_size)::text
    FROM cxkpi.kpi_values
    WHERE grain = g AND period_start = p AND kpi = k AND breakdown = b AND dimension = d $$;

-- Week of 3 March, total: COGS 185; daily stock values 360, 280, 200: average 280 over 3 days;
-- turnover 185 / 280; days of inventory 840 / 185; 2 stock-outs among 11 snapshots.
SELECT is(pg_temp.kv('stock_turnover'), (trim_scale(round(185 / 280.0, 6)), 185, 280, 3)::text, 'turnover: COGS / average inventory (185 / 280)');
SELECT is(pg_temp.kv('days_of_inventory'), (trim_scale(round(840 / 185.0, 6)), 840, 185, 3)::text,
          'days of inventory: sum of daily values / COGS (840 / 185)');
SELECT is(pg_temp.kv('stock_out_rate'), (trim_scale(round(100 * 2 / 11.0, 6)), 2, 11, 11)::text, 'stock-out rate: 2 of 11 SKU-location-days');
-- apparel: COGS 135, values 160, 130, 200 over 3 days; home: COGS 50, values 200, 150 over 2 days
SELECT is(pg_temp.kv('stock_turnover', 'category', 'apparel'), (trim_scale(round(135 * 3 / 490.0, 6)), 135, trim_scale(round(490 / 3.0, 6)), 3)::text,
          'apparel turnover: 135 / (490 / 3)');
SELECT is(pg_temp.kv('stock_turnover', 'category', 'home'), (trim_scale(round(50 / 175.0, 6)), 50, 175, 2)::text,
          'home turnover: the average over its 2 days with a snapshot');
SELECT is(pg_temp.kv('days_of_inventory', 'category', 'home', 'day', '2025-03-03'), NULL,
          'no days of inventory without goods sold (home, 3 March)');
-- Year 2025, total: COGS 235, values 360 + 280 + 200 + 100 = 940 over 4 days: turnover 1, 4 days
SELECT is(pg_temp.kv('stock_turnover', 'total', 'all', 'year', '2025-01-01'), (1, 235, 235, 4)::text,
          'year: 235 / (940 / 4) = 1');
SELECT is(pg_temp.kv('days_of_inventory', 'total', 'all', 'year', '2025-01-01'), (4, 940, 235, 4)::text, 'year: 940 / 235 = 4 days');

-- Every grain against plain SQL over the raw rows
CREATE TEMP VIEW plain AS
WITH r AS (
    SELECT g.grain, date_trunc(g.grain, s.snapshot_date)::date AS period_start, s.*
    FROM cxkpi.inventory_snapshots AS s, (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')) AS g(grain)),
a AS (
    SELECT grain, period_start, 'category' AS breakdown, category AS dimension, sum(cogs) AS cogs, sum(on_hand_value) AS vd,
           count(DISTINCT snapshot_date) AS days, count(*) AS n, count(*) FILTER (WHERE on_hand_units = 0) AS so
    FROM r GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT grain, period_start, 'total', 'all', sum(cogs), sum(on_hand_value), count(DISTINCT snapshot_date), count(*),
           count(*) FILTER (WHERE on_hand_units = 0)
    FROM r GROUP BY 1, 2)
SELECT grain, period_start, 'stock_turnover' AS kpi, breakdown, dimension, cogs / (vd / days) AS value FROM a WHERE vd > 0
UNION ALL SELECT grain, period_start, 'days_of_inventory', breakdown, dimension, vd / cogs FROM a WHERE cogs > 0
UNION ALL SELECT grain, period_start, 'stock_out_rate', breakdown, dimension, 100.0 * so / n FROM a;
SELECT is((SELECT count(*) FROM plain), (SELECT count(*) FROM cxkpi.kpi_values
                                         WHERE kpi IN ('stock_turnover', 'days_of_inventory', 'stock_out_rate')),
          'as many KPI rows as plain SQL finds (every grain, total and category)');
SELECT is((SELECT count(*) FROM plain AS p JOIN cxkpi.kpi_values AS v USING (grain, period_start, kpi, breakdown, dimension)
           WHERE abs(v.value - p.value::double precision) <= 1e-12 * greatest(1, abs(p.value::double precision))),
          (SELECT count(*) FROM plain), 'every value equals plain SQL');
SELECT ok((SELECT bool_and(ci_lower <= value AND value <= ci_upper) FROM cxkpi.kpi_values WHERE kpi = 'stock_out_rate'),
          'the stock-out rate lies in its Wilson interval');

-- Scorecard (month grain: March), time series, section views
SELECT is((SELECT array_agg(kpi || ':' || round(value::numeric, 4) ORDER BY kpi) FROM cxkpi.kpi_scorecard
           WHERE kpi IN ('stock_turnover', 'days_of_inventory', 'stock_out_rate') AND breakdown = 'total'),
          ARRAY['days_of_inventory:4.5405', 'stock_out_rate:18.1818', 'stock_turnover:0.6607'],
          'the scorecard shows March''s figures');
SELECT is((SELECT count(*) FROM cxkpi.kpi_timeseries WHERE grain = 'week' AND period_start = '2025-03-03' AND metric IN ('stock_turnover', 'stock_turnover apparel',
           'stock_turnover home', 'days_of_inventory', 'stock_out_rate')), 5::bigint, 'kpi_timeseries has them at the week grain');
SELECT is((SELECT (round(stock_turnover::numeric, 6), cogs, average_inventory_value, round(days_of_inventory::numeric, 4), snapshot_days,
                   stock_out_sku_days, tracked_sku_days)::text
           FROM cxkpi.kpi_inventory WHERE grain = 'week' AND period_start = '2025-03-03' AND breakdown = 'total'),
          (round(185 / 280.0, 6), 185.00, 280.00, 4.5405, 3, 2, 11)::text, 'cxkpi.kpi_inventory: the week''s total row');
SET LOCAL ROLE cxkpi_reader;
SELECT is((SELECT tracked_sku_days FROM cxkpi_bi.kpi_inventory WHERE grain = 'year' AND period_start = '2025-01-01'
           AND dimension = 'home'), 3::bigint, 'a BI reader reads cxkpi_bi.kpi_inventory');
RESET ROLE;

-- Incremental = rebuild
CREATE TEMP TABLE snap AS SELECT * FROM cxkpi.kpi_values WHERE false;
CREATE FUNCTION pg_temp.same_as_rebuild() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CALL cxkpi.refresh_dashboard();
    DELETE FROM snap;
    INSERT INTO snap SELECT * FROM cxkpi.kpi_values;
    CREATE TEMP TABLE r_inv AS SELECT * FROM cxkpi.daily_inventory;
    CALL cxkpi.rebuild_dashboard();
    SELECT count(*) INTO n FROM (
        (SELECT s::text FROM snap AS s EXCEPT ALL SELECT v::text FROM cxkpi.kpi_values AS v)
        UNION ALL (SELECT v::text FROM cxkpi.kpi_values AS v EXCEPT ALL SELECT s::text FROM snap AS s)
        UNION ALL (SELECT r::text FROM r_inv AS r EXCEPT ALL SELECT d::text FROM cxkpi.daily_inventory AS d)
        UNION ALL (SELECT d::text FROM cxkpi.daily_inventory AS d EXCEPT ALL SELECT r::text FROM r_inv AS r)) AS x;
    DROP TABLE r_inv;
    RETURN n = 0;
END $$;
SET LOCAL ROLE cxkpi_writer;
INSERT INTO cxkpi.inventory_snapshots VALUES ('2025-03-06', 's1', 'A1', 'apparel', 5, 50, 20);
UPDATE cxkpi.inventory_snapshots SET snapshot_date = '2025-02-28' WHERE snapshot_date = '2025-03-05' AND sku = 'A2';
UPDATE cxkpi.inventory_snapshots SET category = 'kitchen' WHERE sku = 'H1' AND snapshot_date = '2025-03-04';
DELETE FROM cxkpi.inventory_snapshots WHERE location = 'web' AND snapshot_date = '2025-03-04';
RESET ROLE;
SELECT is((SELECT array_agg(DISTINCT bucket ORDER BY bucket) FROM cxkpi.change_log WHERE fact = 'inventory_snapshots'),
          ARRAY[date '2025-02-28', '2025-03-04', '2025-03-05', '2025-03-06'],
          'updates log the old and the new dates, deletes the old');
SELECT ok(pg_temp.same_as_rebuild(), 'after inserts, moved, recategorised and deleted snapshots, the refresh equals a rebuild');
-- Week of 3 March now: COGS 20+5+10+0 + 20+0+50 + 10+0 + 20 = 135; values 360, 280, 160, 50 over 4 days
SELECT is(pg_temp.kv('stock_turnover'), (trim_scale(round(135 / (850 / 4.0), 6)), 135, 212.5, 4)::text, 'the week after the changes');
SELECT is(pg_temp.kv('stock_out_rate', 'category', 'kitchen'), (0, 0, 1, 1)::text, 'the new category has its row');
TRUNCATE cxkpi.inventory_snapshots;
SELECT ok(EXISTS (SELECT 1 FROM cxkpi.change_log WHERE fact = 'inventory_snapshots' AND bucket IS NULL),
          'a TRUNCATE logs the whole table');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.kpi_values WHERE kpi IN ('stock_turnover', 'days_of_inventory', 'stock_out_rate')), 0::bigint,
          'after a TRUNCATE the refresh leaves no inventory KPI row');

-- Dumped as user data
SELECT is((SELECT count(*) FROM pg_extension AS e, unnest(e.extconfig::regclass[]) AS c(rel)
           WHERE e.extname = 'cxkpi' AND c.rel = 'cxkpi.inventory_snapshots'::regclass),
          1::bigint, 'inventory_snapshots is dumped (user data)');

SELECT * FROM finish();
ROLLBACK;
