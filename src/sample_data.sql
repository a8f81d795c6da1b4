-- The sample dataset (docs/sample-data.md): cxkpi.generate_sample_data() fills every table of
-- the CX data model with deterministic, plausible retail data calibrated on seed 000: 2025 is
-- the "current" year, 2024 the year before, and customers and orders start in 2021 so that
-- repeat buying, retention and the CLV models have a history.
--
-- Determinism: every random quantity is a hash of (seed, stream, row key) turned into a uniform
-- number, then transformed by an inverse CDF; no random(), no dependence on row order or on the
-- plan.  The same scale and seed give the same rows on every machine.

-- A uniform number in (0, 1) from (seed, stream, key): the top 53 bits of hashint8extended.
CREATE FUNCTION cxkpi.sample_uniform(seed integer, stream integer, key bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (((pg_catalog.hashint8extended(key, (seed::bigint << 16) + stream) >> 11) & 9007199254740991)::double precision
                  + 0.5) / 9007199254740992.0 $$;
COMMENT ON FUNCTION cxkpi.sample_uniform(integer, integer, bigint) IS
    'Deterministic uniform number in (0, 1) from (seed, stream, key), for the sample data generator.';

-- A standard normal number (Box-Muller on streams stream and stream + 1).
CREATE FUNCTION cxkpi.sample_normal(seed integer, stream integer, key bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT sqrt(-2 * ln(cxkpi.sample_uniform(seed, stream, key)))
                 * cos(2 * pi() * cxkpi.sample_uniform(seed, stream + 1, key)) $$;
COMMENT ON FUNCTION cxkpi.sample_normal(integer, integer, bigint) IS
    'Deterministic standard normal number from (seed, stream, key) (Box-Muller; uses streams stream and stream + 1).';

-- A Gamma(shape, 1) number: Wilson-Hilferty cube of a normal for shape + 1, then
-- Gamma(shape) = Gamma(shape + 1) * U^(1/shape) (streams stream .. stream + 2).  The
-- Wilson-Hilferty approximation is within about 1 % of the exact quantiles for shape >= 1,
-- which is plenty for heterogeneity in simulated behaviour.
CREATE FUNCTION cxkpi.sample_gamma(shape double precision, seed integer, stream integer, key bigint)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (shape + 1) * power(greatest(1 - 1 / (9 * (shape + 1))
                                              + cxkpi.sample_normal(seed, stream, key) * sqrt(1 / (9 * (shape + 1))), 0.0), 3)
                 * power(cxkpi.sample_uniform(seed, stream + 2, key), 1 / shape) + 1e-12 $$;
COMMENT ON FUNCTION cxkpi.sample_gamma(double precision, integer, integer, bigint) IS
    'Deterministic Gamma(shape, 1) number from (seed, stream, key) (Wilson-Hilferty; uses streams stream .. stream + 2).';

-- A score drawn from a mixture of a satisfied and a dissatisfied answer profile whose weight
-- gives the requested mean: the mean is linear in the weight, so any mean between the two
-- profiles' means is reached exactly in expectation.  Profiles are cumulative probabilities over
-- lo .. hi.
CREATE FUNCTION cxkpi.sample_score(mean double precision, u_mix double precision, u_score double precision,
                                   good double precision[], bad double precision[], lo integer)
    RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    prof double precision[];
    m_good double precision := 0;
    m_bad double precision := 0;
    prev_g double precision := 0;
    prev_b double precision := 0;
    i integer;
BEGIN
    FOR i IN 1 .. array_length(good, 1) LOOP
        m_good := m_good + (lo + i - 1) * (good[i] - prev_g);
        m_bad := m_bad + (lo + i - 1) * (bad[i] - prev_b);
        prev_g := good[i];
        prev_b := bad[i];
    END LOOP;
    prof := CASE WHEN u_mix < (mean - m_bad) / (m_good - m_bad) THEN good ELSE bad END;
    FOR i IN 1 .. array_length(prof, 1) LOOP
        IF u_score < prof[i] THEN
            RETURN lo + i - 1;
        END IF;
    END LOOP;
    RETURN lo + array_length(prof, 1) - 1;
END $$;
COMMENT ON FUNCTION cxkpi.sample_score(double precision, double precision, double precision, double precision[], double precision[], integer) IS
    'Score with a given expected mean from two cumulative answer profiles (sample data generator).';

-- Linear interpolation of a yearly figure: prior at the middle of the year before, current at
-- the middle of the current year (t = years since the start of the year before).
CREATE FUNCTION cxkpi.sample_trend(prior double precision, current double precision, t double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT prior + (current - prior) * (t - 0.5) $$;
COMMENT ON FUNCTION cxkpi.sample_trend(double precision, double precision, double precision) IS
    'Figure at t years after the start of the year before: linear through prior (mid-year before) and current (mid current year).';

-- The generator.  See docs/sample-data.md for the model, the calibration and the tolerances.
CREATE FUNCTION cxkpi.generate_sample_data(scale double precision DEFAULT 1, seed integer DEFAULT 42,
                                           replace boolean DEFAULT false)
    RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    -- Calendar: the current year, the year before, and the order history before them.
    cur_year  constant integer := 2025;
    d_hist    constant date := make_date(cur_year - 4, 1, 1);   -- customers and orders start here
    d_cx      constant date := make_date(cur_year - 1, 1, 1);   -- every other table starts here
    d_end     constant date := make_date(cur_year, 12, 31);
    tz        text := cxkpi.setting('time_zone');
    ts_end    timestamptz;
    ndays     integer;
    s_cx      double precision;     -- business time at d_cx
    s_cur     double precision;     -- business time at the start of the current year
    n_cust    integer;
    -- Yearly targets, [year before, current] (seed 000).
    aov_total   double precision[] := ARRAY[99, 104, 109, 115, 127];   -- 2021 .. 2025
    conv_total  double precision[] := ARRAY[2.7, 3.2];
    conv_desk   double precision[] := ARRAY[3.3, 3.8];
    conv_mob    double precision[] := ARRAY[2.4, 2.9];
    conv_tab    double precision[] := ARRAY[2.9, 3.4];
    conv_store  double precision[] := ARRAY[3.6, 4.1];
    abandon     double precision[] := ARRAY[0.71, 0.68];
    recover     double precision[] := ARRAY[0.10, 0.12];
    resolve     double precision[] := ARRAY[0.79, 0.87];
    fcr         double precision[] := ARRAY[0.66, 0.72];
    consent     constant double precision := 0.25;  -- share of web/app visits tracked by analytics
    -- Customer behaviour (BG/NBD): purchase rate ~ Gamma(r, alpha) per year while alive,
    -- dropout after each purchase with probability p ~ Beta(a, b), scaled per year.
    bg_r      constant double precision := 1.5;
    bg_alpha  constant double precision := 0.41;   -- years: mean rate r / alpha = 3.66 a year
    bg_a      constant double precision := 1.0;
    bg_b      constant double precision := 9.0;
    drop_old  constant double precision := 1.18;   -- dropout multiplier for purchases before the year before
    drop_prev constant double precision := 0.88;   -- ... in the year before
    drop_cur  constant double precision := 0.80;   -- ... in the current year
    -- Loyalty programme engagement: engaged and dormant spells (mean days), programme events
    -- per year while engaged (mean of a Gamma(2) rate).
    loy_engaged constant double precision := 120;
    loy_dormant constant double precision := 125;
    loy_rate    constant double precision := 12;
    n_rows    bigint;
    n_total   bigint := 0;
    k_csat    double precision;
    tmp       text;
    app_users double precision;
    t0        timestamptz := clock_timestamp();
BEGIN
    IF scale IS NULL OR NOT (scale > 0 AND scale <= 100) THEN
        RAISE EXCEPTION 'scale % is out of range', scale USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use a scale greater than 0 and at most 100 (1 = 26,000 customers and about 140,000 orders).';
    END IF;
    IF seed IS NULL OR replace IS NULL THEN
        RAISE EXCEPTION 'seed and replace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM cxkpi.customers) OR EXISTS (SELECT 1 FROM cxkpi.orders)
       OR EXISTS (SELECT 1 FROM cxkpi.survey_responses) OR EXISTS (SELECT 1 FROM cxkpi.web_sessions)
       OR EXISTS (SELECT 1 FROM cxkpi.store_traffic) OR EXISTS (SELECT 1 FROM cxkpi.carts)
       OR EXISTS (SELECT 1 FROM cxkpi.support_tickets) OR EXISTS (SELECT 1 FROM cxkpi.app_ratings)
       OR EXISTS (SELECT 1 FROM cxkpi.metric_observations) OR EXISTS (SELECT 1 FROM cxkpi.experiments)
       OR EXISTS (SELECT 1 FROM cxkpi.engagement_events) OR EXISTS (SELECT 1 FROM cxkpi.social_mentions) THEN
        IF NOT replace THEN
            RAISE EXCEPTION 'the cxkpi data tables already hold rows'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Call cxkpi.generate_sample_data(..., replace => true) to delete every row of the data tables first.';
        END IF;
        TRUNCATE cxkpi.order_returns, cxkpi.order_deliveries, cxkpi.loyalty_activity, cxkpi.loyalty_members, cxkpi.survey_responses, cxkpi.carts,
                 cxkpi.web_sessions, cxkpi.support_tickets, cxkpi.orders, cxkpi.customers,
                 cxkpi.store_traffic, cxkpi.app_ratings, cxkpi.metric_observations,
                 cxkpi.experiment_assignments, cxkpi.experiments, cxkpi.engagement_events, cxkpi.social_mentions;
    END IF;

    ts_end := (d_end + 1)::timestamp AT TIME ZONE tz;
    n_cust := greatest(100, round(26000 * scale))::integer;
    -- Work tables of an earlier call in this session (if it failed half-way in a subtransaction).
    FOR tmp IN SELECT unnest(ARRAY['cxs_day', 'cxs_bucket', 'cxs_cust', 'cxs_ev', 'cxs_ord', 'cxs_cum', 'cxs_sess',
                                   'cxs_need', 'cxs_tk', 'cxs_ret', 'cxs_srv', 'cxs_spell']) LOOP
        IF to_regclass('pg_temp.' || tmp) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', tmp);
        END IF;
    END LOOP;

    ---------------------------------------------------------------------------------------------
    -- Business time: one unit per day on average, denser in busy seasons and on busy weekdays.
    -- Purchases follow a Poisson process in business time, so they follow the season in
    -- calendar time; s0 is the business time at the start of each day.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_day AS
    WITH x AS (
        SELECT g::date AS day,
               (ARRAY[0.80, 0.78, 0.92, 0.95, 1.00, 0.98, 0.97, 1.00, 0.95, 1.00, 1.25, 1.40])[extract(month FROM g)::int]
               * (ARRAY[0.99, 0.92, 0.90, 0.93, 0.98, 1.08, 1.20])[extract(dow FROM g)::int + 1]
               * CASE WHEN to_char(g, 'MM-DD') = '12-25' THEN 0.3
                      -- Black Friday (the Friday of Nov 23-29), its weekend, Cyber Monday
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) = 5 AND extract(day FROM g) BETWEEN 23 AND 29 THEN 2.0
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) IN (6, 0) AND extract(day FROM g) BETWEEN 24 AND 30 THEN 1.4
                      WHEN extract(dow FROM g) = 1 AND g::date BETWEEN make_date(extract(year FROM g)::int, 11, 26)
                                                                  AND make_date(extract(year FROM g)::int, 12, 2) THEN 1.6
                      ELSE 1 END AS w
        FROM generate_series(d_hist, d_end, '1 day') AS g),
    n AS (SELECT day, (day - d_hist) AS di, w / avg(w) OVER () AS w FROM x)
    SELECT day, di, w, sum(w) OVER (ORDER BY di) - w AS s0 FROM n;
    SELECT count(*) INTO ndays FROM cxs_day;
    SELECT s0 INTO s_cx FROM cxs_day WHERE day = d_cx;
    SELECT s0 INTO s_cur FROM cxs_day WHERE day = make_date(cur_year, 1, 1);
    -- Buckets of 0.1 business day -> the day holding the bucket start (a day is longer than
    -- 0.1, so a bucket crosses at most one day boundary).
    CREATE TEMP TABLE cxs_bucket AS
    SELECT b AS bk, d.di, d.day, d.s0, d.w, d.s0 + d.w AS s_next, lead(d.w) OVER (ORDER BY d.di) AS w_next
    FROM cxs_day AS d, generate_series(ceil(d.s0 * 10)::integer, ceil((d.s0 + d.w) * 10)::integer - 1) AS b;
    CREATE UNIQUE INDEX ON cxs_bucket (bk);
    ANALYZE cxs_bucket;

    ---------------------------------------------------------------------------------------------
    -- Customers: acquisition time (growing 10 % a year), purchase rate, dropout probability,
    -- home channel, loyalty enrolment at their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cust AS
    WITH c AS (
        SELECT i,
               ln(1 + cxkpi.sample_uniform(seed, 1, i) * (exp(0.1 * ndays / 365.25) - 1)) / (0.1 / 365.25) AS tau0,
               cxkpi.sample_gamma(bg_r, seed, 10, i) / bg_alpha / 365.25 AS lam,
               cxkpi.sample_gamma(bg_a, seed, 20, i) AS ga, cxkpi.sample_gamma(bg_b, seed, 30, i) AS gb,
               cxkpi.sample_uniform(seed, 40, i) AS u_home, cxkpi.sample_uniform(seed, 41, i) AS u_member,
               cxkpi.sample_uniform(seed, 42, i) AS u_enrol
        FROM generate_series(1, n_cust) AS i)
    SELECT row_number() OVER (ORDER BY tau0, i) AS customer_id, i, tau0, lam, ga / (ga + gb) AS p,
           CASE WHEN u_home < 0.15 THEN 'store' WHEN u_home < 0.48 THEN 'web_desktop'
                WHEN u_home < 0.80 THEN 'web_mobile' ELSE 'app' END AS home,
           -- enrolment is likelier for frequent buyers, and was likelier in the programme's early years
           u_member < least(0.9, 0.42 * sqrt(lam * 365.25 * bg_alpha / bg_r) * exp(-0.35 * tau0 / 365.25)) AS member,
           CASE WHEN u_enrol < 0.35 THEN 0 WHEN u_enrol < 0.7 THEN 1 ELSE 2 END AS enrol_k
    FROM c;

    -- Purchases: the first at acquisition, then Poisson(lam) gaps in business time; after each
    -- purchase the customer drops out with probability p (times the multiplier of its year).
    CREATE TEMP TABLE cxs_ev AS
    WITH g AS (
        SELECT c.customer_id, k,
               c.tau0 + sum(CASE WHEN k = 0 THEN 0 ELSE -ln(cxkpi.sample_uniform(seed, 50, (c.i << 10) | k)) / c.lam END)
                            OVER (PARTITION BY c.customer_id ORDER BY k) AS tau,
               cxkpi.sample_uniform(seed, 51, (c.i << 10) | k) AS u_drop, c.p
        FROM cxs_cust AS c,
             generate_series(0, least(1000, ceil(c.lam * (ndays - c.tau0) * 1.5 + 6 * sqrt(c.lam * (ndays - c.tau0)) + 8))::integer) AS k),
    h AS (
        SELECT customer_id, k, tau,
               coalesce(bool_or(u_drop < p * CASE WHEN tau < s_cx THEN drop_old WHEN tau < s_cur THEN drop_prev ELSE drop_cur END)
                        OVER (PARTITION BY customer_id ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS dead
        FROM g)
    SELECT h.customer_id, h.k, h.tau,
           CASE WHEN h.tau >= b.s_next THEN b.day + 1 ELSE b.day END AS day,
           least(0.999999, CASE WHEN h.tau >= b.s_next THEN (h.tau - b.s_next) / b.w_next ELSE (h.tau - b.s0) / b.w END) AS frac
    FROM h JOIN cxs_bucket AS b ON b.bk = floor(h.tau * 10)::integer
    WHERE NOT h.dead AND h.tau < ndays;

    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM cxkpi.progress_notice('purchases simulated', n_rows, t0);
    CREATE INDEX ON cxs_ev (customer_id, k);
    ANALYZE cxs_ev;

    ---------------------------------------------------------------------------------------------
    -- Customers and loyalty members.  Acquisition channel follows the home channel; members
    -- enrol on the day of their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    INSERT INTO cxkpi.customers (customer_id, acquired_on, acquisition_channel, acquisition_cost)
    SELECT c.customer_id, e.day, ch.channel,
           round((ch.cost * (0.5 + cxkpi.sample_uniform(seed, 61, c.i)))::numeric, 2)
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = 0
    CROSS JOIN LATERAL (
        SELECT x.channel, x.cost FROM (VALUES
            -- channel, cost, cumulative share for store / online home channels
            ('store', 4.0, 0.55, 0.00), ('direct', 0.0, 0.62, 0.14), ('organic_search', 0.0, 0.72, 0.36),
            ('paid_search', 38.0, 0.80, 0.56), ('social', 27.0, 0.87, 0.70), ('email', 6.0, 0.91, 0.78),
            ('referral', 15.0, 0.96, 0.86), ('affiliate', 22.0, 0.98, 0.91), ('display', 41.0, 0.99, 0.95),
            ('app', 12.0, 1.00, 1.00)) AS x(channel, cost, cum_store, cum_online)
        WHERE cxkpi.sample_uniform(seed, 60, c.i) < CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        ORDER BY CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        LIMIT 1) AS ch;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'customers'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on, tier)
    SELECT c.customer_id, e.day,
           CASE WHEN n.orders >= 12 THEN 'gold' WHEN n.orders >= 5 THEN 'silver' ELSE 'standard' END
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = c.enrol_k
    JOIN (SELECT customer_id, count(*) AS orders FROM cxs_ev GROUP BY 1) AS n ON n.customer_id = c.customer_id
    WHERE c.member;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'loyalty_members'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    ---------------------------------------------------------------------------------------------
    -- Orders.  Channel: the home channel 70 % of the time.  Value: a segment base (seed 000's
    -- new 98 / returning 152 / loyalty 189) times a channel factor times log-normal noise,
    -- scaled per year so that the yearly AOV is seed 000's (see docs: the seed's segment
    -- figures and its total cannot all hold at once).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_ord AS
    WITH e AS (
        SELECT e.customer_id, e.k, e.day, e.frac, c.i,
               CASE WHEN cxkpi.sample_uniform(seed, 70, (c.i << 10) | e.k) < 0.7 THEN c.home
                    ELSE (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[
                         1 + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.15)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.48)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.80)::int] END AS channel,
               CASE WHEN m.enrolled_on <= e.day THEN 'loyalty' WHEN e.k = 0 THEN 'new' ELSE 'returning' END AS segment
        FROM cxs_ev AS e JOIN cxs_cust AS c USING (customer_id)
        LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)),
    f AS (
        SELECT e.*,
               CASE e.segment WHEN 'new' THEN 98.0 WHEN 'returning' THEN 152.0 ELSE 189.0 END
               * CASE e.channel WHEN 'store' THEN 1.0 WHEN 'web_desktop' THEN 1.12 WHEN 'web_mobile' THEN 0.88 ELSE 0.95 END AS base
        FROM e)
    SELECT f.*, extract(year FROM f.day)::integer AS year,
           (f.day + make_interval(secs => CASE WHEN f.channel = 'store' THEN 9 * 3600 + f.frac * 12 * 3600
                                               ELSE (6 + 17 * power(f.frac, 0.8)) * 3600 END))::timestamp AT TIME ZONE tz AS ordered_at,
           1 + least(14, floor(-ln(cxkpi.sample_uniform(seed, 72, (f.i << 10) | f.k)) * 1.4))::integer AS items,
           f.base * exp(0.6 * cxkpi.sample_normal(seed, 73, (f.i << 10) | f.k) - 0.18) AS raw_value,
           CASE WHEN cxkpi.sample_uniform(seed, 75, (f.i << 10) | f.k) < 0.3
                THEN 0.05 + 0.2 * cxkpi.sample_uniform(seed, 76, (f.i << 10) | f.k) ELSE 0 END AS discount_rate
    FROM f;

    INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
    SELECT row_number() OVER (ORDER BY o.ordered_at, o.customer_id, o.k), o.customer_id, o.ordered_at, o.channel, o.items,
           round((v.net / (1 - o.discount_rate))::numeric, 2),
           round((v.net / (1 - o.discount_rate))::numeric, 2) - round(v.net::numeric, 2)
    FROM cxs_ord AS o
    JOIN (SELECT year, aov_total[year - cur_year + 5] / avg(base) AS factor FROM cxs_ord GROUP BY year) AS y USING (year)
    CROSS JOIN LATERAL (SELECT greatest(3.0, o.raw_value * y.factor) AS net) AS v;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'orders'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    ANALYZE cxkpi.orders;
    DROP TABLE cxs_ord;

    -- Deliveries (issue 17): web and app orders are shipped 0-2 days after the order, delivered
    -- 1-5 days after shipping and promised 5 days 18 hours after the order (about 90 % on time);
    -- store orders are not delivered.  Orders still on their way at the end of the data have no
    -- delivered_at, orders not yet shipped no row.
    INSERT INTO cxkpi.order_deliveries (order_id, shipped_at, delivered_at, promised_by, carrier)
    SELECT d.order_id, d.shipped_at, CASE WHEN d.delivered_at < ts_end THEN d.delivered_at END, d.promised_by, d.carrier
    FROM (SELECT o.order_id,
                 o.ordered_at + make_interval(secs => cxkpi.sample_uniform(seed, 310, o.order_id) * 2 * 86400) AS shipped_at,
                 o.ordered_at + make_interval(secs => (cxkpi.sample_uniform(seed, 310, o.order_id) * 2
                                                       + 1 + cxkpi.sample_uniform(seed, 311, o.order_id) * 4) * 86400) AS delivered_at,
                 o.ordered_at + interval '5 days 18 hours' AS promised_by,
                 (ARRAY['DHL', 'UPS', 'DPD', 'postal'])[1 + floor(cxkpi.sample_uniform(seed, 312, o.order_id) * 4)::integer] AS carrier
          FROM cxkpi.orders AS o WHERE o.channel <> 'store') AS d
    WHERE d.shipped_at < ts_end;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'order_deliveries'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Returns: online orders come back more often than store orders, first orders more often
    -- than repeat orders; single-item orders are returned whole, others often in part.
    CREATE TEMP TABLE cxs_ret AS
    SELECT o.order_id, o.items, o.gross_value - o.discount AS net, o.ordered_at,
           CASE WHEN o.items = 1 OR cxkpi.sample_uniform(seed, 81, o.order_id) < 0.35 THEN o.items
                ELSE 1 + floor(cxkpi.sample_uniform(seed, 82, o.order_id) * (o.items - 1))::integer END AS items_returned,
           o.ordered_at + make_interval(days => 1 + floor(-ln(cxkpi.sample_uniform(seed, 83, o.order_id)) * 11)::integer,
                                        secs => cxkpi.sample_uniform(seed, 84, o.order_id) * 43200) AS requested_at
    FROM (SELECT o.*, row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at, o.order_id) = 1 AS first_order
          FROM cxkpi.orders AS o) AS o
    WHERE cxkpi.sample_uniform(seed, 80, o.order_id)
          < CASE o.channel WHEN 'store' THEN 0.07 WHEN 'web_desktop' THEN 0.17 WHEN 'web_mobile' THEN 0.15 ELSE 0.13 END
            * CASE WHEN o.first_order THEN 1.35 ELSE 0.9 END;
    DELETE FROM cxs_ret WHERE requested_at >= ts_end;
    INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, received_at, items_returned, value_returned,
                                     initiated_by, reason)
    SELECT row_number() OVER (ORDER BY r.requested_at, r.order_id), r.order_id, r.requested_at,
           nullif(least(r.requested_at + make_interval(days => 2 + floor(cxkpi.sample_uniform(seed, 85, r.order_id) * 8)::integer),
                        ts_end), ts_end),
           r.items_returned,
           CASE WHEN r.items_returned = r.items THEN r.net ELSE round(r.net * r.items_returned / r.items, 2) END,
           CASE WHEN cxkpi.sample_uniform(seed, 86, r.order_id) < 0.06 THEN 'merchant' ELSE 'customer' END,
           (ARRAY['wrong size', 'wrong size', 'not as described', 'changed mind', 'defective', 'arrived damaged',
                  'arrived late', 'better price elsewhere'])[1 + floor(cxkpi.sample_uniform(seed, 87, r.order_id) * 8)::integer]
    FROM cxs_ret AS r;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'order_returns'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_ret;

    ---------------------------------------------------------------------------------------------
    -- Loyalty programme activity (2021-2025, like the orders).  Members alternate between engaged
    -- spells (mean loy_engaged days), in which they use the programme (visits in the app or on
    -- the web, points earned outside an order, rewards redeemed) as a Poisson process with a
    -- rate of their own (Gamma, shape 2, mean loy_rate a year), and dormant spells (mean
    -- loy_dormant days) without programme activity; spell lengths are exponential.  A member
    -- starts engaged or dormant as in the long run (engaged / (engaged + dormant)); the
    -- enrolment order opens a first engaged spell, an activity each later one.  With the orders
    -- this makes the 90-day active share about seed 000's 75 % in every period once the
    -- programme has matured (docs/sample-data.md#loyalty-activity).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_spell AS
    WITH m AS (
        SELECT customer_id, enrolled_on,
               cxkpi.sample_gamma(2, seed, 300, customer_id) / 2 * loy_rate / 365.25 AS rate,   -- per day
               (cxkpi.sample_uniform(seed, 305, customer_id) >= loy_engaged / (loy_engaged + loy_dormant))::integer AS dormant_first
        FROM cxkpi.loyalty_members),
    s AS (
        SELECT m.customer_id, m.enrolled_on, m.rate, k + m.dormant_first AS k,
               sum(-ln(cxkpi.sample_uniform(seed, 303, (m.customer_id << 8) | k))
                   * CASE WHEN (k + m.dormant_first) % 2 = 0 THEN loy_engaged ELSE loy_dormant END)
                   OVER (PARTITION BY m.customer_id ORDER BY k) AS s_end
        FROM m, generate_series(0, least(250, 4 * ceil((d_end - m.enrolled_on + 1) / (loy_engaged + loy_dormant)) + 10)::integer) AS k)
    -- spells in days since the enrolment day; even k: engaged
    SELECT customer_id, enrolled_on, rate, k, coalesce(lag(s_end) OVER (PARTITION BY customer_id ORDER BY k), 0) AS s_start, s_end
    FROM s;
    DELETE FROM cxs_spell WHERE k % 2 = 1 OR s_start >= d_end - enrolled_on + 1;
    INSERT INTO cxkpi.loyalty_activity (customer_id, active_at, kind)
    SELECT e.customer_id,
           (e.enrolled_on + floor(e.t)::integer
            + make_interval(secs => (6 + 17 * power(e.t - floor(e.t), 0.8)) * 3600))::timestamp AT TIME ZONE tz,
           CASE WHEN e.u < 0.55 THEN 'visit' WHEN e.u < 0.85 THEN 'earn' ELSE 'redeem' END
    FROM (SELECT sp.customer_id, sp.enrolled_on, sp.k, x.j, sp.s_end,
                 sp.s_start + sum(CASE WHEN x.j = 0 THEN 0 ELSE -ln(cxkpi.sample_uniform(seed, 304, x.key)) / sp.rate END)
                                  OVER (PARTITION BY sp.customer_id, sp.k ORDER BY x.j) AS t,
                 cxkpi.sample_uniform(seed, 306, x.key) AS u
          FROM cxs_spell AS sp
          CROSS JOIN LATERAL (
              SELECT j, (sp.customer_id << 20) | (sp.k << 12) | j AS key
              -- enough draws for the Poisson count of the spell: mean + 4 sd + 6
              FROM generate_series(0, least(4000, ceil(sp.rate * (sp.s_end - sp.s_start)
                                                       + 4 * sqrt(sp.rate * (sp.s_end - sp.s_start)) + 6))::integer) AS j) AS x) AS e
    WHERE e.t < e.s_end AND e.t < d_end - e.enrolled_on + 1
      AND NOT (e.k = 0 AND e.j = 0)             -- the enrolment order opens the first spell
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'loyalty_activity'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_spell;
    -- The last known activity of each member: the last programme activity or order after enrolling.
    UPDATE cxkpi.loyalty_members AS m
    SET last_active_on = x.last_day
    FROM (SELECT customer_id, max(day) AS last_day
          FROM (SELECT a.customer_id, (a.active_at AT TIME ZONE tz)::date AS day FROM cxkpi.loyalty_activity AS a
                UNION ALL
                SELECT o.customer_id, (o.ordered_at AT TIME ZONE tz)::date
                FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m2 USING (customer_id)
                WHERE (o.ordered_at AT TIME ZONE tz)::date >= m2.enrolled_on) AS u
          GROUP BY customer_id) AS x
    WHERE x.customer_id = m.customer_id;

    ---------------------------------------------------------------------------------------------
    -- Customers acquired by each day (to pick a known customer for sessions, surveys, tickets).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cum AS
    SELECT d.day, coalesce(max(c.last_id) OVER (ORDER BY d.day), 0) AS customers
    FROM cxs_day AS d
    LEFT JOIN (SELECT acquired_on, max(customer_id) AS last_id FROM cxkpi.customers GROUP BY 1) AS c ON c.acquired_on = d.day;
    -- (customer ids are numbered in acquisition order, so ids 1 .. customers were known on day)

    ---------------------------------------------------------------------------------------------
    -- Web and app sessions (visits tracked with analytics consent, 25 % of visits): one converted
    -- session per tracked online order, and non-converted sessions so that each device reaches
    -- seed 000's conversion rate; the app rate is what makes the total (stores included) 3.2 %.
    -- Cart funnel: abandoned carts so that abandonment is seed 000's 68 %.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_sess AS
    SELECT o.order_id AS key, 0 AS kind, o.customer_id,
           CASE o.channel WHEN 'web_desktop' THEN CASE WHEN cxkpi.sample_uniform(seed, 101, o.order_id) < 0.9 THEN 'desktop' ELSE 'tablet' END
                          WHEN 'web_mobile' THEN 'mobile' ELSE 'app' END AS device,
           o.ordered_at - make_interval(secs => 120 + cxkpi.sample_uniform(seed, 102, o.order_id) * 2400) AS started_at,
           true AS added_to_cart, true AS reached_checkout, true AS converted
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 100, o.order_id) < consent;
    -- Sessions needed per device and year.
    CREATE TEMP TABLE cxs_need AS
    WITH conv AS (
        SELECT extract(year FROM started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, device, count(*) AS conv
        FROM cxs_sess GROUP BY 1, 2),
    store AS (
        SELECT extract(year FROM ordered_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, count(*) AS conv
        FROM cxkpi.orders WHERE channel = 'store' AND ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1),
    fixed AS (
        SELECT c.yi, c.device, c.conv,
               c.conv / (CASE c.device WHEN 'desktop' THEN conv_desk[c.yi] WHEN 'mobile' THEN conv_mob[c.yi]
                                       WHEN 'tablet' THEN conv_tab[c.yi] END / 100) AS visits
        FROM conv AS c WHERE c.device <> 'app'),
    app AS (
        SELECT c.yi, 'app' AS device, c.conv,
               greatest(c.conv / 0.08,
                        (c.conv + s.conv + (SELECT sum(f.conv) FROM fixed AS f WHERE f.yi = c.yi)) / (conv_total[c.yi] / 100)
                        - s.conv / (conv_store[c.yi] / 100) - (SELECT sum(f.visits) FROM fixed AS f WHERE f.yi = c.yi)) AS visits
        FROM conv AS c JOIN store AS s USING (yi) WHERE c.device = 'app')
    SELECT yi, device, conv, round(visits)::bigint - conv AS nonconv,
           round(conv * abandon[yi] / (1 - abandon[yi]))::bigint AS abandoned
    FROM (SELECT * FROM fixed UNION ALL SELECT * FROM app) AS x;
    -- Non-converted sessions, spread over each year in business time.
    INSERT INTO cxs_sess
    SELECT b.key, 1, CASE WHEN cxkpi.sample_uniform(seed, 112, b.key) < 0.3
                          THEN 1 + floor(cxkpi.sample_uniform(seed, 113, b.key) * cu.customers)::bigint END,
           b.device, (b.day + make_interval(secs => (6 + 17 * power(b.frac, 0.8)) * 3600))::timestamp AT TIME ZONE tz,
           b.cart, b.cart AND cxkpi.sample_uniform(seed, 111, b.key) < 0.35, false
    FROM (SELECT k.key, k.device, k.cart,
                 CASE WHEN k.tau >= bb.s_next THEN bb.day + 1 ELSE bb.day END AS day,
                 least(0.999999, CASE WHEN k.tau >= bb.s_next THEN (k.tau - bb.s_next) / bb.w_next
                                      ELSE (k.tau - bb.s0) / bb.w END) AS frac
          FROM (SELECT k0.key, k0.device,
                       cxkpi.sample_uniform(seed, 110, k0.key) < k0.abandoned::double precision / k0.nonconv AS cart,
                       CASE k0.yi WHEN 1 THEN s_cx ELSE s_cur END
                       + (k0.j - cxkpi.sample_uniform(seed, 114, k0.key)) / k0.nonconv
                         * CASE k0.yi WHEN 1 THEN s_cur - s_cx ELSE ndays - s_cur END AS tau
                FROM (SELECT (n.yi::bigint << 40) | (array_position(ARRAY['desktop', 'mobile', 'tablet', 'app'], n.device)::bigint << 32) | j AS key,
                             n.device, n.nonconv, n.abandoned, n.yi, j
                      FROM cxs_need AS n, generate_series(1, n.nonconv) AS j) AS k0) AS k
          JOIN cxs_bucket AS bb ON bb.bk = floor(k.tau * 10)::integer) AS b
    JOIN cxs_cum AS cu ON cu.day = b.day;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM cxkpi.progress_notice('web sessions drawn (not converted)', n_rows, t0);
    INSERT INTO cxkpi.web_sessions (session_id, started_at, device, customer_id, added_to_cart, reached_checkout, converted)
    SELECT row_number() OVER (ORDER BY started_at, kind, key), started_at, device, customer_id, added_to_cart,
           reached_checkout, converted
    FROM cxs_sess;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'web_sessions'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Carts: one per session that added to cart; abandoned carts are recovered (bought later,
    -- after a reminder) as seed 000's 12 % (10 % the year before).
    INSERT INTO cxkpi.carts (cart_id, created_at, device, customer_id, converted_at, abandoned_at, recovered_at)
    SELECT row_number() OVER (ORDER BY c.created_at, c.kind, c.key), c.created_at, c.device, c.customer_id,
           CASE WHEN c.converted THEN least(c.created_at + make_interval(secs => 180 + cxkpi.sample_uniform(seed, 121, c.key) * 1500),
                                            ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted THEN least(c.abandoned_at, ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted AND cxkpi.sample_uniform(seed, 122, c.key) < recover[c.yi]
                     AND c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) < ts_end
                THEN c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) END
    FROM (SELECT s.*, s.started_at + make_interval(secs => 30 + cxkpi.sample_uniform(seed, 120, s.key) * 900) AS created_at,
                 s.started_at + make_interval(secs => 1800 + cxkpi.sample_uniform(seed, 124, s.key) * 5400) AS abandoned_at,
                 extract(year FROM s.started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi
          FROM cxs_sess AS s WHERE s.added_to_cart) AS c;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'carts'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_sess;

    -- Store footfall: visitors per store and day from the day's store orders and seed 000's
    -- in-store conversion (4.1 %, 3.6 % the year before), with day-to-day noise; stores differ
    -- in size.
    INSERT INTO cxkpi.store_traffic (store_id, visit_date, visitors)
    SELECT format('store-%s', lpad(st::text, 2, '0')), d.day,
           round(d.orders / (conv_store[extract(year FROM d.day)::integer - cur_year + 2] / 100)
                 * exp(0.12 * cxkpi.sample_normal(seed, 130, (d.day - d_hist)::bigint) - 0.0072)
                 * w.weight / sum(w.weight) OVER (PARTITION BY d.day))::bigint
    FROM (SELECT dd.day, count(o.order_id) AS orders
          FROM cxs_day AS dd LEFT JOIN cxkpi.orders AS o
               ON o.channel = 'store' AND (o.ordered_at AT TIME ZONE tz)::date = dd.day
          WHERE dd.day >= d_cx GROUP BY dd.day) AS d
    CROSS JOIN (SELECT st, 0.5 + cxkpi.sample_uniform(seed, 131, st) AS weight
                FROM generate_series(1, greatest(3, round(12 * sqrt(scale)))::integer) AS st) AS w;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'store_traffic'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    ---------------------------------------------------------------------------------------------
    -- Support tickets: about 10 % of orders lead to one (20 % if returned), plus tickets from
    -- people who are not (yet) customers.  First response times are log-normal with seed 000's
    -- channel means (email 1.8 h, chat 0.3 h, phone 4.2 h; 2.1 / 0.5 / 4.9 the year before, a
    -- linear trend in between); the channel mix gives the 2.3 h (2.7 h) overall mean.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_tk AS
    SELECT t.*, extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t_years
    FROM (SELECT o.order_id AS key, o.customer_id,
                 o.ordered_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 141, o.order_id)) * 4 * 86400) AS created_at
          FROM cxkpi.orders AS o
          WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
            AND cxkpi.sample_uniform(seed, 140, o.order_id)
                < CASE WHEN EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id) THEN 0.2 ELSE 0.1 END
          UNION ALL
          SELECT (1::bigint << 40) | j, NULL,
                 (d_cx + floor(cxkpi.sample_uniform(seed, 142, (1::bigint << 40) | j) * (d_end - d_cx + 1))::integer)::timestamp AT TIME ZONE tz
                 + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 143, (1::bigint << 40) | j) * 14 * 3600)
          FROM generate_series(1, round(900 * scale)::integer) AS j) AS t
    WHERE t.created_at < ts_end;
    INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at, first_response_at, resolved_at,
                                       contacts_to_resolve, reopened)
    SELECT row_number() OVER (ORDER BY x.created_at, x.key), x.customer_id, x.channel, x.created_at,
           CASE WHEN x.responded THEN x.created_at + make_interval(secs => x.response_h * 3600) END,
           CASE WHEN x.resolved THEN x.created_at + make_interval(secs => (x.response_h + x.resolve_h) * 3600) END,
           CASE WHEN x.resolved THEN CASE WHEN cxkpi.sample_uniform(seed, 150, x.key) < cxkpi.sample_trend(fcr[1], fcr[2], x.t_years) / 0.96
                                          THEN 1 ELSE 2 + floor(cxkpi.sample_uniform(seed, 151, x.key) * 3)::integer END END,
           x.resolved AND cxkpi.sample_uniform(seed, 152, x.key) < 0.04
    FROM (SELECT y.*, y.responded AND cxkpi.sample_uniform(seed, 147, y.key) < cxkpi.sample_trend(resolve[1], resolve[2], y.t_years) / 0.98
                      AND y.created_at + make_interval(secs => (y.response_h + y.resolve_h) * 3600) < ts_end AS resolved
          FROM (SELECT t.*, ch.channel,
                       cxkpi.sample_uniform(seed, 145, t.key) < 0.98
                       AND t.created_at + make_interval(secs => ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) * 3600) < ts_end
                           AS responded,
                       ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) AS response_h,
                       1 - ln(cxkpi.sample_uniform(seed, 148, t.key)) * 16 AS resolve_h
                FROM cxs_tk AS t
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN u < chat THEN 'chat' WHEN u < chat + email THEN 'email' ELSE 'phone' END AS channel,
                           CASE WHEN u < chat THEN cxkpi.sample_trend(0.5, 0.3, t.t_years)
                                WHEN u < chat + email THEN cxkpi.sample_trend(2.1, 1.8, t.t_years)
                                ELSE cxkpi.sample_trend(4.9, 4.2, t.t_years) END AS mean_h
                    FROM (SELECT cxkpi.sample_uniform(seed, 144, t.key) AS u,
                                 cxkpi.sample_trend(0.18, 0.22, t.t_years) AS chat,
                                 cxkpi.sample_trend(0.503, 0.434, t.t_years) AS email) AS m) AS ch) AS y) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'support_tickets'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_tk;

    ---------------------------------------------------------------------------------------------
    -- Surveys.  NPS: a monthly relationship survey of known customers (seed 000: 42, 37 the
    -- year before, linear trend).  CSAT (1-5) after interactions: orders by channel (store 4.4,
    -- web 4.1, app 3.9; 0.3 lower the year before), support tickets, returns and deliveries.
    -- CES (1-7) after tickets and returns.  Some answers carry a comment (about the return, on
    -- the returns touchpoint: seed 001's customer feedback on returns).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_srv (key bigint, survey text, channel text, responded_at timestamptz, customer_id bigint,
                               order_id bigint, mean double precision);
    -- NPS: mean is unused; promoter and detractor shares come from the trend below.
    INSERT INTO cxs_srv
    SELECT (2::bigint << 40) | (m.mi << 20) | j, 'nps',
           CASE WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.6 THEN 'email'
                WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.85 THEN 'app' ELSE 'web' END,
           (m.d0 + floor(cxkpi.sample_uniform(seed, 161, (2::bigint << 40) | (m.mi << 20) | j) * m.ndays)::integer)::timestamp
               AT TIME ZONE tz + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 162, (2::bigint << 40) | (m.mi << 20) | j) * 15 * 3600),
           NULL, NULL, NULL
    FROM (SELECT mi, (d_cx + make_interval(months => mi::integer))::date AS d0,
                 (d_cx + make_interval(months => mi::integer + 1))::date - (d_cx + make_interval(months => mi::integer))::date AS ndays
          FROM generate_series(0::bigint, 23) AS mi) AS m,
         generate_series(1::bigint, round(800 * scale)::bigint) AS j;
    UPDATE cxs_srv AS s SET customer_id = 1 + floor(cxkpi.sample_uniform(seed, 163, s.key) * cu.customers)::bigint
    FROM cxs_cum AS cu WHERE cu.day = (s.responded_at AT TIME ZONE tz)::date AND cu.customers > 0;
    -- CSAT after orders: sampled so that store, web and app answers are 45 %, 40 % and 15 %.
    SELECT 0.10 * count(*) INTO k_csat FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz;
    INSERT INTO cxs_srv
    SELECT o.order_id, 'csat', c.channel,
           o.ordered_at + make_interval(secs => CASE WHEN o.channel = 'store' THEN 600 + cxkpi.sample_uniform(seed, 171, o.order_id) * 36000
                                                     ELSE 86400 + cxkpi.sample_uniform(seed, 171, o.order_id) * 5 * 86400 END),
           o.customer_id, o.order_id, c.prior + 0.3 * c.t_years
    FROM cxkpi.orders AS o
    CROSS JOIN LATERAL (
        SELECT CASE o.channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel,
               CASE o.channel WHEN 'store' THEN 4.1 WHEN 'app' THEN 3.6 ELSE 3.8 END AS prior,
               CASE o.channel WHEN 'store' THEN 0.45 WHEN 'app' THEN 0.15 ELSE 0.40 END AS share,
               extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 0.5 AS t_years) AS c
    JOIN (SELECT CASE channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel, count(*) AS n
          FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1) AS n ON n.channel = c.channel
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 170, o.order_id) < c.share * k_csat / n.n;
    -- Deliveries of online orders (CSAT 4.3, 4.0 the year before).
    INSERT INTO cxs_srv
    SELECT (3::bigint << 40) | o.order_id, 'csat', 'delivery',
           o.ordered_at + make_interval(secs => 2 * 86400 + cxkpi.sample_uniform(seed, 176, o.order_id) * 4 * 86400),
           o.customer_id, o.order_id,
           cxkpi.sample_trend(4.0, 4.3, extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400))
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 175, o.order_id) < 0.02;
    -- Resolved tickets: CSAT (email 4.2, chat 4.4, phone 4.0; 0.3 lower the year before) and CES.
    INSERT INTO cxs_srv
    SELECT (4::bigint << 40) | (v.n << 32) | t.ticket_id, v.survey, t.channel,
           t.resolved_at + make_interval(secs => 600 + cxkpi.sample_uniform(seed, 181, t.ticket_id) * 86400),
           t.customer_id, NULL,
           CASE v.survey WHEN 'csat' THEN CASE t.channel WHEN 'email' THEN 4.2 WHEN 'chat' THEN 4.4 ELSE 4.0 END
                         ELSE CASE t.channel WHEN 'email' THEN 5.2 WHEN 'chat' THEN 5.6 ELSE 4.9 END END
           + 0.3 * (extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.support_tickets AS t, (VALUES (0::bigint, 'csat', 0.25), (1::bigint, 'ces', 0.30)) AS v(n, survey, rate)
    WHERE t.resolved_at IS NOT NULL AND cxkpi.sample_uniform(seed, 180 + v.n::integer * 10, t.ticket_id) < v.rate;
    -- Received returns: CSAT of the returns experience (4.1, 3.8 the year before) and CES (5.5, 5.2).
    INSERT INTO cxs_srv
    SELECT (5::bigint << 40) | (v.n << 32) | r.return_id, v.survey, 'returns',
           r.received_at + make_interval(secs => 3600 + cxkpi.sample_uniform(seed, 201, r.return_id) * 2 * 86400),
           o.customer_id, r.order_id,
           CASE v.survey WHEN 'csat' THEN 4.1 ELSE 5.5 END
           + 0.3 * (extract(epoch FROM r.requested_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id),
         (VALUES (0::bigint, 'csat', 0.15), (1::bigint, 'ces', 0.20)) AS v(n, survey, rate)
    WHERE r.received_at IS NOT NULL AND r.requested_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 200 + v.n::integer * 10, r.return_id) < v.rate;
    DELETE FROM cxs_srv WHERE responded_at >= ts_end;

    INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id, order_id, comment)
    SELECT row_number() OVER (ORDER BY x.responded_at, x.survey, x.key), x.responded_at, x.survey, x.score,
           CASE x.survey WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 ELSE 7 END, x.channel, x.customer_id, x.order_id,
           CASE WHEN x.survey <> 'ces' AND cxkpi.sample_uniform(seed, 222, x.key) < 0.18 THEN
                CASE WHEN (x.survey = 'nps' AND x.score >= 9) OR (x.survey = 'csat' AND x.score >= 4)
                     THEN (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Easy return, refund within days.', 'Free return label, very convenient.', 'Exchange was quick and simple.',
                                           'Returned in store, no questions asked.', 'Refund arrived the next day.', 'Clear instructions for the return.']
                                ELSE ARRAY['Great service, will come back.', 'Fast delivery and easy checkout.', 'Staff were really helpful.',
                                           'Love the loyalty rewards.', 'Good prices and quality.', 'Exactly what I ordered.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     WHEN (x.survey = 'nps' AND x.score <= 6) OR (x.survey = 'csat' AND x.score <= 2)
                     THEN (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Returns took too long to refund.', 'Had to pay for the return shipping.', 'The return label never arrived.',
                                           'Refund was less than I paid.', 'Nobody confirmed my return was received.', 'The store would not take the return.']
                                ELSE ARRAY['Delivery was late.', 'The app keeps crashing at checkout.', 'Long wait on the phone.',
                                           'Item did not match the description.', 'Returns took too long to refund.', 'Nobody answered my email.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     ELSE (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Return was OK.', 'Fine, the refund took a while.', 'Could be faster.', 'Printing the label was a hassle.']
                                ELSE ARRAY['OK overall.', 'Fine, nothing special.', 'Could be faster.', 'Prices went up.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 4)::integer] END END
    FROM (SELECT s.*,
                 CASE s.survey
                 WHEN 'nps' THEN (SELECT CASE WHEN u < det THEN (ARRAY[0, 1, 2, 3, 4, 5, 6])[1 + (u2 >= 0.04)::int + (u2 >= 0.07)::int + (u2 >= 0.12)::int
                                                                                   + (u2 >= 0.20)::int + (u2 >= 0.32)::int + (u2 >= 0.57)::int]
                                              WHEN u < 1 - pro THEN 7 + (u2 >= 0.45)::int
                                              ELSE 9 + (u2 >= 0.45)::int END
                                  FROM (SELECT cxkpi.sample_uniform(seed, 220, s.key) AS u, cxkpi.sample_uniform(seed, 221, s.key) AS u2,
                                               cxkpi.sample_trend(0.15, 0.13, t) AS det, cxkpi.sample_trend(0.52, 0.55, t) AS pro
                                        FROM (SELECT extract(epoch FROM s.responded_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t) AS tt) AS q)
                 WHEN 'csat' THEN cxkpi.sample_score(least(4.7, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                                     ARRAY[0, 0, 0.03, 0.25, 1], ARRAY[0.25, 0.55, 0.85, 1, 1], 1)
                 ELSE cxkpi.sample_score(least(6.15, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                         ARRAY[0, 0, 0, 0.05, 0.20, 0.55, 1], ARRAY[0.15, 0.40, 0.65, 0.85, 0.95, 1, 1], 1) END AS score
          FROM cxs_srv AS s) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'survey_responses'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_srv;

    -- App store ratings (seed 000: 4.1, 3.9 the year before).
    INSERT INTO cxkpi.app_ratings (rating_id, rated_at, app_store, rating, app_version, comment)
    SELECT row_number() OVER (ORDER BY a.rated_at, a.j), a.rated_at,
           CASE WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.48 THEN 'app_store'
                WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.98 THEN 'google_play' ELSE 'other' END,
           a.rating, format('%s.%s', 5 + (a.day - d_cx) / 365, ((a.day - d_cx) % 365) / 30), 
           CASE WHEN cxkpi.sample_uniform(seed, 234, a.j) < 0.25 THEN
                CASE WHEN a.rating >= 4 THEN (ARRAY['Easy to use.', 'Love the new design.', 'Quick checkout.', 'Handy order tracking.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer]
                     ELSE (ARRAY['Crashes on login.', 'Too slow.', 'Checkout keeps failing.', 'Too many notifications.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer] END END
    FROM (SELECT j, d.day,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => cxkpi.sample_uniform(seed, 232, j) * 86400) AS rated_at,
                 cxkpi.sample_score(cxkpi.sample_trend(3.9, 4.1, (d.day - d_cx) / 365.25), cxkpi.sample_uniform(seed, 233, j),
                                    cxkpi.sample_uniform(seed, 236, j), ARRAY[0, 0, 0.05, 0.30, 1], ARRAY[0.55, 0.80, 0.95, 1, 1], 1) AS rating
          FROM generate_series(1::bigint, round(6000 * scale)::bigint) AS j
          JOIN cxs_day AS d ON d.day = d_cx + floor(cxkpi.sample_uniform(seed, 230, j) * (d_end - d_cx + 1))::integer) AS a;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'app_ratings'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Secondary metrics measured elsewhere (seed 000; the year before: plausible values with
    -- the improvements the seed mentions): daily load time, uptime and app active users, monthly mobile score,
    -- mystery shopper and protocol adherence, quarterly training hours and certification.
    -- App active users (seed 000: 850K for 2.4M loyalty members), scaled like the members; +20 %
    -- on the year before (an assumption).
    SELECT count(*) * 850.0 / 2400 INTO app_users FROM cxkpi.loyalty_members;
    INSERT INTO cxkpi.metric_observations (kpi, observed_at, dimension, value, weight)
    SELECT m.kpi, (d.day::timestamp + interval '12 hours') AT TIME ZONE tz, '',
           least(m.hi, greatest(m.lo, round((cxkpi.sample_trend(m.prior, m.current, (d.day - d_cx) / 365.25)
                                             + m.noise * cxkpi.sample_normal(seed, 240 + m.n, (d.day - d_hist)::bigint))::numeric, m.digits)::double precision)),
           m.weight
    FROM (VALUES (0, 'website_load_time_seconds', 2.4, 2.1, 0.15, 0.5, 10.0, 2, 'day', 1.0),
                 (1, 'uptime_pct', 99.8, 99.9, 0.08, 98.0, 100.0, 3, 'day', 1440.0),
                 (2, 'mobile_optimization_score', 88, 92, 1.0, 0.0, 100.0, 0, 'month', 1.0),
                 (3, 'staff_training_hours', 36, 42, 1.5, 0.0, 200.0, 1, 'quarter', 1.0),
                 (4, 'certification_share_pct', 91, 95, 0.8, 0.0, 100.0, 1, 'quarter', 1.0),
                 (5, 'mystery_shopper_score_pct', 85, 88, 2.0, 0.0, 100.0, 1, 'month', 1.0),
                 (6, 'protocol_adherence_pct', 90, 92, 1.2, 0.0, 100.0, 1, 'month', 1.0),
                 (7, 'app_active_users', app_users / 1.2, app_users, 0.03 * app_users, 0.0, 1e12, 0, 'day', 1.0))
         AS m(n, kpi, prior, current, noise, lo, hi, digits, every, weight)
    JOIN cxs_day AS d ON d.day >= d_cx AND d.day = date_trunc(m.every, d.day::timestamp)::date;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'metric_observations'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Engagement events (issue 17, seed 002; no figures in the seed, plausible ones): a quarter
    -- of the customers subscribe to the newsletter, sent on the first Tuesday of every month from
    -- the later of d_cx and their acquisition; about 21 % of the emails opened (23 % the current
    -- year), 2.6 % clicked (3.0 %), a click always after an open, by a propensity of each
    -- subscriber (3 v^2 times the mean, v uniform: many never open).  Social interactions,
    -- tracked site visits, app sessions and store visits (loyalty card scans) of the 35 % of
    -- customers who follow the brand, on a random day from their acquisition on, a little more
    -- often as time goes on.
    INSERT INTO cxkpi.engagement_events (event_id, customer_id, occurred_at, channel, kind)
    SELECT row_number() OVER (ORDER BY e.occurred_at, e.kind, e.customer_id), e.customer_id, e.occurred_at, e.channel, e.kind
    FROM (SELECT m.customer_id, m.sent_at + k.delay AS occurred_at, 'email' AS channel, k.kind
          FROM (SELECT c.customer_id, (d.day::timestamp + interval '9 hours') AT TIME ZONE tz AS sent_at,
                       cxkpi.sample_uniform(seed, 401, c.customer_id * 100 + (d.day - d_cx) / 28)
                           / (3 * cxkpi.sample_uniform(seed, 406, c.customer_id) ^ 2) AS u,
                       (d.day - d_cx) / 365.25 AS t
                FROM cxkpi.customers AS c
                JOIN cxs_day AS d ON d.day >= greatest(d_cx, c.acquired_on) AND extract(dow FROM d.day) = 2
                                 AND extract(day FROM d.day) <= 7
                WHERE cxkpi.sample_uniform(seed, 400, c.customer_id) < 0.25) AS m
          CROSS JOIN LATERAL (VALUES ('email_sent', interval '0'),
                                     ('email_open', make_interval(secs => 600 + 86400 * least(m.u, 1) * 40)),
                                     ('email_click', make_interval(secs => 900 + 86400 * least(m.u, 1) * 40))) AS k(kind, delay)
          WHERE k.kind = 'email_sent' OR (k.kind = 'email_open' AND m.u < cxkpi.sample_trend(0.21, 0.23, m.t))
             OR (k.kind = 'email_click' AND m.u < cxkpi.sample_trend(0.026, 0.030, m.t))
          UNION ALL
          SELECT c.customer_id,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => 8 * 3600 + cxkpi.sample_uniform(seed, 405, x.j) * 14 * 3600),
                 x.channel, x.kind
          FROM (SELECT j, v.channel, v.kind,
                       1 + floor(cxkpi.sample_uniform(seed, 402, j) * n_cust)::bigint AS customer_id,
                       cxkpi.sample_uniform(seed, 403, j) AS u
                FROM (VALUES (0, 'social', 'social_interaction', 30000), (1, 'web', 'site_visit', 45000),
                             (2, 'app', 'app_session', 35000), (3, 'store', 'store_visit', 15000)) AS v(n, channel, kind, per_scale)
                CROSS JOIN LATERAL generate_series(v.n * 10000000 + 1, v.n * 10000000 + round(v.per_scale * scale)::bigint) AS j) AS x
          JOIN cxkpi.customers AS c ON c.customer_id = x.customer_id AND cxkpi.sample_uniform(seed, 404, c.customer_id) < 0.35
          -- a little busier as time goes on: density 0.9 + 0.2 f over the customer's span (f from 0 to 1)
          JOIN cxs_day AS d ON d.day = greatest(d_cx, c.acquired_on)
                                       + floor((d_end - greatest(d_cx, c.acquired_on) + 1)
                                               * least(0.999999, (sqrt(0.81 + 0.4 * x.u) - 0.9) / 0.2))::integer) AS e;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'engagement_events'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Social mentions (seed 003): instagram 40 %, x 25 %, facebook 20 %, review sites 15 %;
    -- positive 45 % the year before and 50 % the current year, negative 20 % and 17 %; the
    -- classifier's polarity on 60 % of them, the others left to the lexicon (their texts score
    -- as their class).
    INSERT INTO cxkpi.social_mentions (mention_id, source, mentioned_at, text, polarity)
    SELECT row_number() OVER (ORDER BY m.mentioned_at, m.j), m.source, m.mentioned_at,
           (CASE m.class WHEN 1 THEN ARRAY['Love the new collection!', 'Great service in store today', 'Fast delivery, thanks',
                                           'Excellent quality, would recommend']
                         WHEN 0 THEN ARRAY['Anyone tried the new app?', 'Store opening hours on Sunday?',
                                           'Just ordered the winter jacket', 'Saw the ad on TV']
                         ELSE ARRAY['Terrible customer service', 'Delivery was late again', 'Item arrived damaged, want a refund',
                                    'Not happy with the quality'] END)[1 + floor(cxkpi.sample_uniform(seed, 413, m.j) * 4)::integer],
           CASE WHEN cxkpi.sample_uniform(seed, 414, m.j) < 0.6 THEN m.class END
    FROM (SELECT j,
                 CASE WHEN cxkpi.sample_uniform(seed, 411, j) < 0.40 THEN 'instagram' WHEN cxkpi.sample_uniform(seed, 411, j) < 0.65 THEN 'x'
                      WHEN cxkpi.sample_uniform(seed, 411, j) < 0.85 THEN 'facebook' ELSE 'reviews' END AS source,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => cxkpi.sample_uniform(seed, 412, j) * 86400) AS mentioned_at,
                 CASE WHEN cxkpi.sample_uniform(seed, 415, j) < cxkpi.sample_trend(0.45, 0.50, (d.day - d_cx) / 365.25) THEN 1
                      WHEN cxkpi.sample_uniform(seed, 415, j) > 1 - cxkpi.sample_trend(0.20, 0.17, (d.day - d_cx) / 365.25) THEN -1
                      ELSE 0 END::smallint AS class
          FROM generate_series(1::bigint, round(4000 * scale)::bigint) AS j
          JOIN cxs_day AS d ON d.day = d_cx + floor(cxkpi.sample_uniform(seed, 410, j) * (d_end - d_cx + 1))::integer) AS m;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'social_mentions'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Two A/B tests (docs/experiments.md#the-sample-experiments).  The facts above are generated
    -- without them and stay as they are, so the effects are made by the assignment: a unit whose
    -- outcome is a success is a little more likely to be in the winning variant, which is what a
    -- true effect on that outcome looks like in the data.
    -- checkout_redesign (ended): web sessions of 1 October - 14 November 2025, half to a one-page
    -- checkout, which converts about 10 % more.  loyalty_offer (running): the customers with an
    -- order in June - August 2025, assigned in September, a third each to the control, a welcome
    -- offer (about 12 % more buy again) and double points (no effect).
    INSERT INTO cxkpi.experiments (experiment, description, unit, control_variant, primary_metric, starts_at, ends_at)
    VALUES ('checkout_redesign', 'One-page checkout against the three-step checkout, web and app sessions.', 'session',
            'control', 'conversion', make_date(cur_year, 10, 1)::timestamp AT TIME ZONE tz,
            make_date(cur_year, 11, 15)::timestamp AT TIME ZONE tz),
           ('loyalty_offer', 'A welcome-back offer or double points for customers active in the summer.', 'customer',
            'control', 'conversion', make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz, NULL);
    INSERT INTO cxkpi.experiment_assignments (experiment, variant, session_id, assigned_at)
    SELECT 'checkout_redesign',
           CASE WHEN cxkpi.sample_uniform(seed, 300, s.session_id) < CASE WHEN s.converted THEN 0.525 ELSE 0.5 END
                THEN 'one_page_checkout' ELSE 'control' END,
           s.session_id, s.started_at
    FROM cxkpi.web_sessions AS s
    WHERE s.started_at >= make_date(cur_year, 10, 1)::timestamp AT TIME ZONE tz
      AND s.started_at < make_date(cur_year, 11, 15)::timestamp AT TIME ZONE tz;
    INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, assigned_at)
    SELECT 'loyalty_offer',
           CASE WHEN x.u < 1 / (2 + x.odds) THEN 'control'
                WHEN x.u < (1 + x.odds) / (2 + x.odds) THEN 'welcome_offer' ELSE 'double_points' END,
           x.customer_id, x.assigned_at
    FROM (SELECT c.customer_id, c.assigned_at, cxkpi.sample_uniform(seed, 302, c.customer_id) AS u,
                 CASE WHEN EXISTS (SELECT 1 FROM cxkpi.orders AS o
                                   WHERE o.customer_id = c.customer_id AND o.ordered_at >= c.assigned_at) THEN 1.12 ELSE 1 END AS odds
          FROM (SELECT o.customer_id,
                       (make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz)
                       + make_interval(secs => cxkpi.sample_uniform(seed, 301, o.customer_id) * 30 * 86400) AS assigned_at
                FROM cxkpi.orders AS o
                WHERE o.ordered_at >= make_date(cur_year, 6, 1)::timestamp AT TIME ZONE tz
                  AND o.ordered_at < make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz
                GROUP BY o.customer_id) AS c) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    n_rows := n_rows + (SELECT count(*) FROM cxkpi.experiment_assignments WHERE experiment = 'checkout_redesign');
    table_name := 'experiment_assignments'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- The loyalty target scaled like the member count: seed 000 aims at 3.0M members for 2.4M.
    UPDATE cxkpi.kpi_targets
    SET target = (SELECT round(count(*) * 3.0 / 2.4) FROM cxkpi.loyalty_members WHERE enrolled_on <= d_end)
    WHERE kpi = 'loyalty_members' AND dimension = '' AND target IS NOT NULL;

    -- The scorecard shows the current year against the year before.
    UPDATE cxkpi.settings SET value = (d_end + 1)::text WHERE key = 'as_of';
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'scorecard_grain';
    -- Alerts at the same grain: seed 000's thresholds are for yearly figures (retention 65 %).
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'alert_grain';

    DROP TABLE cxs_day, cxs_bucket, cxs_cust, cxs_ev, cxs_cum, cxs_need;
    PERFORM cxkpi.progress_notice(format('sample data done (scale %s, seed %s)', scale, seed), n_total, t0);
END $$;
