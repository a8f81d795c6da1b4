-- Simulated customers for the CLV models: draws from the BG/NBD (or MBG/NBD) purchase process and
-- the Gamma-Gamma spend process with known parameters, so that tests can check that the fits
-- recover them (test/tap/60_clv.sql) and benchmarks have realistic input (test/bench/clv.sh).
-- Deterministic for a given seed (PostgreSQL's random() after setseed()).
--
--   SELECT * FROM clv_sim.customers(n, r, alpha, a, b, p, q, v, t_min, t_max, modified, seed)
--
-- returns one row per customer: id, x (repeat purchases), t_x (recency), t (age), m (mean spend of
-- the repeat purchases, 0 when x = 0), in continuous time; ages are uniform in [t_min, t_max].
-- With `day` > 0, all times are first rounded down to multiples of `day` (1/7 turns weeks into
-- days, as rfm_agg would see them) and purchases on the same day merged.
CREATE SCHEMA IF NOT EXISTS clv_sim;

-- Uniform on (0, 1].
CREATE OR REPLACE FUNCTION clv_sim.unif() RETURNS double precision LANGUAGE sql VOLATILE
AS $$ SELECT 1.0 - random() $$;

-- Standard normal (Box-Muller).
CREATE OR REPLACE FUNCTION clv_sim.normal() RETURNS double precision LANGUAGE sql VOLATILE
AS $$ SELECT sqrt(-2 * ln(clv_sim.unif())) * cos(2 * pi() * random()) $$;

-- Gamma(shape k, rate 1): Marsaglia & Tsang (2000), with the U^(1/k) boost for k < 1.
CREATE OR REPLACE FUNCTION clv_sim.gamma(k double precision) RETURNS double precision
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d double precision;
    c double precision;
    z double precision;
    v double precision;
BEGIN
    IF k < 1 THEN
        RETURN clv_sim.gamma(k + 1) * power(clv_sim.unif(), 1.0 / k);
    END IF;
    d := k - 1.0 / 3;
    c := 1 / sqrt(9 * d);
    LOOP
        z := clv_sim.normal();
        v := power(1 + c * z, 3);
        CONTINUE WHEN 1 + c * z <= 0;
        IF ln(clv_sim.unif()) < 0.5 * z * z + d - d * v + d * ln(v) THEN
            RETURN d * v;
        END IF;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION clv_sim.customers(
    n integer, r double precision, alpha double precision, a double precision, b double precision,
    p double precision DEFAULT 6, q double precision DEFAULT 4, v double precision DEFAULT 15,
    t_min double precision DEFAULT 27, t_max double precision DEFAULT 39,
    modified boolean DEFAULT false, seed double precision DEFAULT 0.5, day double precision DEFAULT 0)
RETURNS TABLE (id integer, x integer, t_x double precision, t double precision, m double precision)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    lam double precision;
    pdrop double precision;
    nu double precision;
    s double precision;
    g1 double precision;
    tt double precision;
    last double precision;
    spend double precision;
BEGIN
    PERFORM setseed(seed);
    FOR i IN 1..n LOOP
        id := i;
        lam := clv_sim.gamma(r) / alpha;
        g1 := clv_sim.gamma(a);
        pdrop := g1 / (g1 + clv_sim.gamma(b));
        nu := clv_sim.gamma(q) / v;
        t := t_min + (t_max - t_min) * random();
        IF day > 0 THEN
            t := floor(t / day) * day;
        END IF;
        x := 0;
        t_x := 0;
        spend := 0;
        last := 0;
        s := 0;
        -- MBG/NBD: a coin at time 0 too
        IF NOT (modified AND random() < pdrop) THEN
            LOOP
                s := s - ln(clv_sim.unif()) / lam;
                EXIT WHEN s > t;
                tt := CASE WHEN day > 0 THEN floor(s / day) * day ELSE s END;
                IF tt > last THEN           -- a new purchase day (continuous: always)
                    x := x + 1;
                    t_x := tt;
                    last := tt;
                    spend := spend + clv_sim.gamma(p) / nu;
                END IF;
                EXIT WHEN random() < pdrop;
            END LOOP;
        END IF;
        m := CASE WHEN x > 0 THEN spend / x ELSE 0 END;
        RETURN NEXT;
    END LOOP;
END $$;
