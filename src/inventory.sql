-------------------------------------------------------------------------------------------------
-- Inventory (issue 17, seed 002: "Stock turnover rate: measures the efficiency of inventory
-- management"): the daily stock snapshots an ERP exports, their daily rollup per category,
-- maintained by the refresh like the others (cxkpi.dashboard_rollups()), and the KPI
-- definitions of stock turnover, days of inventory and the stock-out rate
-- (docs/data-model.md#inventory_snapshots, docs/dashboard.md#inventory).
-------------------------------------------------------------------------------------------------

-- One row per local day, location and SKU: the stock on hand at the end of the day (units and
-- value at cost) and the cost of the goods sold from that stock during that day.  snapshot_date
-- is a local calendar day already (no time zone conversion).  A SKU belongs to one category a
-- day (a SKU moved to another category counts in the new one from that day on).
CREATE TABLE cxkpi.inventory_snapshots (
    snapshot_date date NOT NULL CONSTRAINT inventory_snapshots_date_finite CHECK (isfinite(snapshot_date)),
    location      text NOT NULL CONSTRAINT inventory_snapshots_location_not_empty CHECK (btrim(location) <> ''),
    sku           text NOT NULL CONSTRAINT inventory_snapshots_sku_not_empty CHECK (btrim(sku) <> ''),
    category      text NOT NULL CONSTRAINT inventory_snapshots_category_not_empty CHECK (btrim(category) <> ''),
    on_hand_units numeric(14, 3) NOT NULL CONSTRAINT inventory_snapshots_units_non_negative CHECK (on_hand_units >= 0 AND on_hand_units <> 'NaN'),
    on_hand_value numeric(16, 2) NOT NULL CONSTRAINT inventory_snapshots_value_non_negative CHECK (on_hand_value >= 0 AND on_hand_value <> 'NaN'),
    cogs          numeric(16, 2) NOT NULL DEFAULT 0 CONSTRAINT inventory_snapshots_cogs_non_negative CHECK (cogs >= 0 AND cogs <> 'NaN'),
    CONSTRAINT inventory_snapshots_value_of_units CHECK (on_hand_units > 0 OR on_hand_value = 0),
    PRIMARY KEY (snapshot_date, location, sku)
);
COMMENT ON TABLE cxkpi.inventory_snapshots IS
    'One row per local day, location and SKU (an ERP''s daily stock export): category, units and value at cost on hand at the end of the day, and the cost of goods sold from that stock during the day. Stock turnover, days of inventory and the stock-out rate per category are computed from it.';
COMMENT ON COLUMN cxkpi.inventory_snapshots.snapshot_date IS 'The local calendar day the snapshot closes (no time zone conversion).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.location IS 'Store, warehouse or fulfilment centre holding the stock (free key, not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.sku IS 'Stock-keeping unit (not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.category IS 'Product category of the SKU on that day (the KPIs'' dimension; not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.on_hand_units IS 'Units on hand at the end of the day (>= 0; 0 is a stock-out).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.on_hand_value IS 'Value of the units on hand at cost (>= 0; 0 when no unit is on hand).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.cogs IS 'Cost of goods sold from this location and SKU during the day (>= 0).';
CREATE INDEX inventory_snapshots_category_idx ON cxkpi.inventory_snapshots (category, snapshot_date);

SELECT pg_catalog.pg_extension_config_dump('cxkpi.inventory_snapshots', '');

-- Inventory per day and category: the SKU-location rows tracked and those out of stock, the
-- stock value at cost and the cost of goods sold.  All additive: a period's average inventory is
-- the sum of the daily values over the days with a snapshot, so every grain is exact.
CREATE TABLE cxkpi.daily_inventory (day date, category text, tracked bigint, stock_outs bigint,
    inventory_value numeric, cogs numeric);
CREATE UNIQUE INDEX daily_inventory_key ON cxkpi.daily_inventory (day, category);
CREATE FUNCTION cxkpi.rollup_daily_inventory(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_inventory
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT s.snapshot_date AS day, s.category, count(*) AS tracked, count(*) FILTER (WHERE s.on_hand_units = 0) AS stock_outs,
       sum(s.on_hand_value) AS inventory_value, sum(s.cogs) AS cogs
FROM cxkpi.inventory_snapshots AS s
WHERE s.snapshot_date BETWEEN first_day AND last_day
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_inventory IS
    'Internal rollup: inventory snapshots per day and category: SKU-location rows tracked and out of stock (0 units), stock value at cost, cost of goods sold.';
COMMENT ON FUNCTION cxkpi.rollup_daily_inventory(text, date, date) IS
    'Internal: the rows of cxkpi.daily_inventory of the days first_day to last_day (snapshot dates are local days already: tz is not used).';

-- The KPIs (computed by cxkpi.kpi_engine from cxkpi.daily_inventory), total and per category.
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('stock_turnover', 'Stock turnover', 'operational_efficiency', 'ratio', 'higher_is_better',
     'cost of goods sold in the period / average inventory value at cost (mean of the daily snapshot totals over the days of the period with a snapshot); per period, not annualised', 'builtin', 0, NULL, true),
    ('days_of_inventory', 'Days of inventory', 'operational_efficiency', 'days', 'lower_is_better',
     'days with a snapshot / stock turnover = sum of the daily inventory values at cost / cost of goods sold, in the period', 'builtin', 0, NULL, true),
    ('stock_out_rate', 'Stock-out rate', 'operational_efficiency', 'percent', 'lower_is_better',
     '100 * SKU-location-days with 0 units on hand / SKU-location-days tracked (snapshots), in the period', 'builtin', 0, 100, true);
