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
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
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
    consent     constant double precision := 0.45;  -- share of web/app visits tracked by analytics
    -- Customer behaviour (BG/NBD): purchase rate ~ Gamma(r, alpha) per year while alive,
    -- dropout after each purchase with probability p ~ Beta(a, b), scaled per year.
    bg_r      constant double precision := 1.5;
    bg_alpha  constant double precision := 0.41;   -- years: mean rate r / alpha = 3.66 a year
    bg_a      constant double precision := 1.0;
    bg_b      constant double precision := 9.0;
    drop_old  constant double precision := 1.25;   -- dropout multiplier for purchases before the year before
    drop_prev constant double precision := 0.80;   -- ... in the year before
    drop_cur  constant double precision := 0.80;   -- ... in the current year
    n_rows    bigint;
    k_csat    double precision;
    loy_active double precision;
BEGIN
    IF scale IS NULL OR NOT (scale > 0 AND scale <= 100) THEN
        RAISE EXCEPTION 'scale % is out of range', scale USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use a scale greater than 0 and at most 100 (1 = about 26,000 customers and 200,000 orders).';
    END IF;
    IF seed IS NULL OR replace IS NULL THEN
        RAISE EXCEPTION 'seed and replace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM cxkpi.customers) OR EXISTS (SELECT 1 FROM cxkpi.orders)
       OR EXISTS (SELECT 1 FROM cxkpi.survey_responses) OR EXISTS (SELECT 1 FROM cxkpi.web_sessions)
       OR EXISTS (SELECT 1 FROM cxkpi.store_traffic) OR EXISTS (SELECT 1 FROM cxkpi.carts)
       OR EXISTS (SELECT 1 FROM cxkpi.support_tickets) OR EXISTS (SELECT 1 FROM cxkpi.app_ratings)
       OR EXISTS (SELECT 1 FROM cxkpi.metric_observations) THEN
        IF NOT replace THEN
            RAISE EXCEPTION 'the cxkpi data tables already hold rows'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Call cxkpi.generate_sample_data(..., replace => true) to delete every row of the data tables first.';
        END IF;
        TRUNCATE cxkpi.order_returns, cxkpi.loyalty_members, cxkpi.survey_responses, cxkpi.carts,
                 cxkpi.web_sessions, cxkpi.support_tickets, cxkpi.orders, cxkpi.customers,
                 cxkpi.store_traffic, cxkpi.app_ratings, cxkpi.metric_observations;
    END IF;

    ts_end := (d_end + 1)::timestamp AT TIME ZONE tz;
    n_cust := greatest(100, round(26000 * scale))::integer;
    DROP TABLE IF EXISTS cxs_day, cxs_bucket, cxs_cust, cxs_ev, cxs_ord, cxs_cum, cxs_sess, cxs_tk, cxs_ret, cxs_srv;

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
           CASE WHEN u_home < 0.25 THEN 'store' WHEN u_home < 0.55 THEN 'web_desktop'
                WHEN u_home < 0.83 THEN 'web_mobile' ELSE 'app' END AS home,
           u_member < least(0.9, 0.28 * sqrt(lam * 365.25 * bg_alpha / bg_r)) AS member,
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

    INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on, tier)
    SELECT c.customer_id, e.day,
           CASE WHEN n.orders >= 12 THEN 'gold' WHEN n.orders >= 5 THEN 'silver' ELSE 'standard' END
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = c.enrol_k
    JOIN (SELECT customer_id, count(*) AS orders FROM cxs_ev GROUP BY 1) AS n ON n.customer_id = c.customer_id
    WHERE c.member;

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
                         1 + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.25)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.55)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.83)::int] END AS channel,
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
                                               ELSE (6 + 18 * power(f.frac, 0.8)) * 3600 END))::timestamp AT TIME ZONE tz AS ordered_at,
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
    ANALYZE cxkpi.orders;
    DROP TABLE cxs_ord;

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
    DROP TABLE cxs_ret;

    -- Loyalty activity: the last known activity is the last order after enrolment or a later
    -- programme activity (app visit, points); members are active at the end of the current
    -- year as seed 000's 75 % (those who did not order in the last 90 days get programme
    -- activity with the probability that makes up the difference).
    SELECT count(*) FILTER (WHERE o.last_order > d_end - 90)::double precision / nullif(count(*), 0)
      INTO loy_active
    FROM cxkpi.loyalty_members AS m
    LEFT JOIN (SELECT customer_id, max((ordered_at AT TIME ZONE tz)::date) AS last_order FROM cxkpi.orders GROUP BY 1) AS o
           USING (customer_id);
    UPDATE cxkpi.loyalty_members AS m
    SET last_active_on = greatest(o.last_order, o.activity)
    FROM (SELECT m2.customer_id, max((o2.ordered_at AT TIME ZONE tz)::date) AS last_order,
                 CASE WHEN cxkpi.sample_uniform(seed, 91, m2.customer_id) < (0.75 - loy_active) / (1 - loy_active)
                      THEN greatest(m2.enrolled_on, d_end - floor(cxkpi.sample_uniform(seed, 92, m2.customer_id) * 90)::integer)
                      WHEN cxkpi.sample_uniform(seed, 93, m2.customer_id) < 0.5 AND d_end - 91 > m2.enrolled_on
                      THEN m2.enrolled_on + floor(cxkpi.sample_uniform(seed, 94, m2.customer_id) * (d_end - 91 - m2.enrolled_on))::integer
                      END AS activity
          FROM cxkpi.loyalty_members AS m2 LEFT JOIN cxkpi.orders AS o2
               ON o2.customer_id = m2.customer_id AND (o2.ordered_at AT TIME ZONE tz)::date >= m2.enrolled_on
          GROUP BY m2.customer_id, m2.enrolled_on) AS o
    WHERE o.customer_id = m.customer_id;
    SELECT count(*) INTO n_rows FROM cxkpi.loyalty_members;
    table_name := 'loyalty_members'; row_count := n_rows; RETURN NEXT;

    RETURN QUERY SELECT 'debug_events', count(*) FROM cxs_ev;
END $$;
