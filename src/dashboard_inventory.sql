-------------------------------------------------------------------------------------------------
-- Inventory on the dashboard (issue 17, seed 002): the section view, its cxkpi_bi name, display
-- order, and privileges (docs/dashboard.md#inventory).
-------------------------------------------------------------------------------------------------

-- One row per grain, period, breakdown (total or category) and dimension (all or the category).
CREATE VIEW cxkpi.kpi_inventory AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'stock_turnover') AS stock_turnover,
       max(numerator) FILTER (WHERE kpi = 'stock_turnover')::numeric(16, 2) AS cogs,
       max(denominator) FILTER (WHERE kpi = 'stock_turnover')::numeric(16, 2) AS average_inventory_value,
       max(value) FILTER (WHERE kpi = 'days_of_inventory') AS days_of_inventory,
       max(sample_size) FILTER (WHERE kpi = 'stock_turnover') AS snapshot_days,
       max(value) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'stock_out_rate')::bigint AS stock_out_sku_days,
       max(denominator) FILTER (WHERE kpi = 'stock_out_rate')::bigint AS tracked_sku_days
FROM cxkpi.kpi_values
WHERE kpi IN ('stock_turnover', 'days_of_inventory', 'stock_out_rate')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_inventory IS
    'Inventory per period (seed 002): stock turnover (cost of goods sold / average inventory value at cost, per period), days of inventory and the stock-out rate (share of SKU-location-days with no unit on hand) with its Wilson interval; total and by category.';
COMMENT ON COLUMN cxkpi.kpi_inventory.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_inventory.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_inventory.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_inventory."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_inventory.breakdown IS 'total or category.';
COMMENT ON COLUMN cxkpi.kpi_inventory.dimension IS 'The product category; all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_turnover IS
    'Cost of goods sold in the period / average inventory value at cost (mean of the daily totals over the days with a snapshot); per period, not annualised.';
COMMENT ON COLUMN cxkpi.kpi_inventory.cogs IS 'Cost of goods sold in the period (currency).';
COMMENT ON COLUMN cxkpi.kpi_inventory.average_inventory_value IS
    'Mean over the days with a snapshot of the day''s total stock value at cost (currency).';
COMMENT ON COLUMN cxkpi.kpi_inventory.days_of_inventory IS
    'Days of stock at the period''s rate of sales: snapshot days / stock turnover = sum of the daily stock values / cost of goods sold.';
COMMENT ON COLUMN cxkpi.kpi_inventory.snapshot_days IS 'Days of the period with a snapshot (in the category).';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_pct IS '100 * SKU-location-days with 0 units on hand / SKU-location-days tracked.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the stock-out rate.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the stock-out rate.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_sku_days IS 'Snapshots (SKU, location, day) with 0 units on hand.';
COMMENT ON COLUMN cxkpi.kpi_inventory.tracked_sku_days IS 'Snapshots (SKU, location, day) in the period.';

CREATE VIEW cxkpi_bi.kpi_inventory AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension, v.stock_turnover, v.cogs,
       v.average_inventory_value, v.days_of_inventory, v.snapshot_days, v.stock_out_rate_pct,
       v.stock_out_rate_ci_lower_pct, v.stock_out_rate_ci_upper_pct, v.stock_out_sku_days, v.tracked_sku_days
FROM cxkpi.kpi_inventory AS v;
COMMENT ON VIEW cxkpi_bi.kpi_inventory IS
    'Inventory per period (seed 002): stock turnover, days of inventory and the stock-out rate with its interval; total and by category.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS doc FROM pg_attribute AS a
             WHERE a.attrelid = 'cxkpi.kpi_inventory'::regclass AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.kpi_inventory.%I IS %L', r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_inventory, cxkpi_bi.kpi_inventory TO cxkpi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.inventory_snapshots TO cxkpi_writer;

-- Display order and decimals (cxkpi_bi.kpi_catalog), as src/bi.sql does for the others.
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order, decimals = v.decimals
FROM (VALUES ('stock_turnover', 550, 2::smallint), ('days_of_inventory', 552, 1), ('stock_out_rate', 554, NULL)) AS v(kpi, sort_order, decimals)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;
