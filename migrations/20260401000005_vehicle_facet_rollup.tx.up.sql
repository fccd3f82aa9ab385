-- Listing details and facets in the rollups.
--
-- vehicle_rollup gains condition and body style ('' for none) in its
-- group: a storefront filters by them, and both are few (body style mostly
-- follows the model), so a million demo vehicles fold into about 16,000
-- groups instead of 15,000, and counts, statistics and facets under those
-- filters still come from the rollups. Fuel, condition and body style
-- facets are read there too.
--
-- vehicle_total_rollup is vehicle_rollup without the dealer: what a filter
-- without a dealer or a distance reads (about 1,300 groups instead of
-- 16,000).
--
-- vehicle_color_rollup gains the trim ('' for none): a search word found in
-- colors or trims but in no VIN or stock number selects whole groups of it,
-- so "toyota red" is counted there although "red" is also part of trims
-- such as "Preferred".
--
-- vehicle_facet_rollup counts, for each group of vehicle_rollup, the
-- vehicles of each model year and of each price step of $500 (the price in
-- cents divided by 50,000); vehicle_facet_total_rollup the same for each
-- group without the dealer, which is what a filter without a dealer or a
-- distance reads (a seventh of the rows), and also per wide price step of
-- $5,000, which a storefront's usual histograms (buckets of $5,000, $10,000)
-- read instead of seven times as many $500 steps. A price histogram whose
-- bucket is a multiple of $500 is exact from the steps.
--
-- Statement-level triggers keep all five exact inside the writing
-- transaction (see 20260201000001_vehicle_rollup). Triggers of one event
-- fire in name order, so every writer upserts vehicle_facet_rollup, then
-- vehicle_facet_total_rollup, then vehicle_rollup, then
-- vehicle_total_rollup, then vehicle_color_rollup, each in the order of
-- its primary key, and two writers cannot deadlock on the groups. A group whose vehicles are all
-- gone keeps a row with zero counts.

DELETE FROM vehicle_rollup;
ALTER TABLE vehicle_rollup
    ADD COLUMN condition text NOT NULL,
    ADD COLUMN body_style text NOT NULL,
    DROP CONSTRAINT vehicle_rollup_pkey,
    ADD PRIMARY KEY (dealer_id, make_id, model_id, status, fuel, condition, body_style);
INSERT INTO vehicle_rollup (dealer_id, make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
SELECT dealer_id, make_id, model_id, status, fuel, condition, coalesce(body_style, ''), count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7;

CREATE TABLE vehicle_total_rollup (
    make_id     bigint NOT NULL,
    model_id    bigint NOT NULL,
    status      text   NOT NULL,
    fuel        text   NOT NULL,
    condition   text   NOT NULL,
    body_style  text   NOT NULL,
    vehicles    bigint NOT NULL,
    price_cents bigint NOT NULL,
    PRIMARY KEY (make_id, model_id, status, fuel, condition, body_style)
);
INSERT INTO vehicle_total_rollup (make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
SELECT make_id, model_id, status, fuel, condition, coalesce(body_style, ''), count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6;

DELETE FROM vehicle_color_rollup;
ALTER TABLE vehicle_color_rollup
    -- '' for vehicles without a trim: no search word matches it.
    ADD COLUMN trim text NOT NULL,
    DROP CONSTRAINT vehicle_color_rollup_pkey,
    ADD PRIMARY KEY (make_id, model_id, status, fuel, color, trim);
INSERT INTO vehicle_color_rollup (make_id, model_id, status, fuel, color, trim, vehicles, price_cents)
SELECT make_id, model_id, status, fuel, coalesce(color, ''), coalesce(trim, ''), count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6;
-- A count of "toyota red" ORs, for each word, the groups whose color or
-- trim contains it (the trigram index) and those of the models it names
-- (the model index), and ANDs the words: a few hundred of some 20,000
-- groups, instead of two pattern matches on every one.
CREATE INDEX vehicle_color_rollup_words_idx ON vehicle_color_rollup USING gin (color gin_trgm_ops, trim gin_trgm_ops);
CREATE INDEX vehicle_color_rollup_model_id_idx ON vehicle_color_rollup (model_id);

CREATE OR REPLACE FUNCTION vehicle_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, ''), count(*), sum(n.price_cents)
    FROM new_rows n
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_total_rollup AS r (make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, ''), count(*), sum(n.price_cents)
    FROM new_rows n
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, trim, vehicles, price_cents)
    SELECT n.make_id, n.model_id, n.status, n.fuel, coalesce(n.color, ''), coalesce(n.trim, ''), count(*), sum(n.price_cents)
    FROM new_rows n
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, color, trim) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION vehicle_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The groups exist (their vehicles did): these only ever update.
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), -count(*), -sum(o.price_cents)
    FROM old_rows o
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_total_rollup AS r (make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), -count(*), -sum(o.price_cents)
    FROM old_rows o
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, trim, vehicles, price_cents)
    SELECT o.make_id, o.model_id, o.status, o.fuel, coalesce(o.color, ''), coalesce(o.trim, ''), -count(*), -sum(o.price_cents)
    FROM old_rows o
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, color, trim) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION vehicle_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Each changed row leaves its old groups and joins its new ones; rows
    -- whose groups and price did not change cancel out.
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, c.condition, c.body_style, sum(c.vehicles), sum(c.price_cents)
    FROM (
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, '') AS body_style, 1 AS vehicles, n.price_cents FROM new_rows n
        UNION ALL
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), -1, -o.price_cents FROM old_rows o
    ) c
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(c.vehicles) <> 0 OR sum(c.price_cents) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_total_rollup AS r (make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT c.make_id, c.model_id, c.status, c.fuel, c.condition, c.body_style, sum(c.vehicles), sum(c.price_cents)
    FROM (
        SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, '') AS body_style, 1 AS vehicles, n.price_cents FROM new_rows n
        UNION ALL
        SELECT o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), -1, -o.price_cents FROM old_rows o
    ) c
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(c.vehicles) <> 0 OR sum(c.price_cents) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, trim, vehicles, price_cents)
    SELECT c.make_id, c.model_id, c.status, c.fuel, c.color, c.trim, sum(c.vehicles), sum(c.price_cents)
    FROM (
        SELECT n.make_id, n.model_id, n.status, n.fuel, coalesce(n.color, '') AS color, coalesce(n.trim, '') AS trim, 1 AS vehicles, n.price_cents FROM new_rows n
        UNION ALL
        SELECT o.make_id, o.model_id, o.status, o.fuel, coalesce(o.color, ''), coalesce(o.trim, ''), -1, -o.price_cents FROM old_rows o
    ) c
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(c.vehicles) <> 0 OR sum(c.price_cents) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, color, trim) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION vehicle_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vehicle_rollup;
    DELETE FROM vehicle_total_rollup;
    DELETE FROM vehicle_color_rollup;
    RETURN NULL;
END;
$$;

CREATE TABLE vehicle_facet_rollup (
    -- 'year' (value: the model year) or 'price' (value: the $500 step).
    facet      text   NOT NULL,
    dealer_id  bigint NOT NULL,
    status     text   NOT NULL,
    condition  text   NOT NULL,
    body_style text   NOT NULL,
    fuel       text   NOT NULL,
    make_id    bigint NOT NULL,
    model_id   bigint NOT NULL,
    value      bigint NOT NULL,
    vehicles   bigint NOT NULL,
    -- Facet and dealer first, then a storefront's usual filters: a
    -- statement reads one facet's rows of the dealers in a circle (or of
    -- one), narrowed by status, condition and body style on the index.
    PRIMARY KEY (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value)
);

CREATE TABLE vehicle_facet_total_rollup (
    -- 'year', 'price' (the $500 step) or 'price_wide' (the $5,000 step:
    -- the price in cents divided by 500,000).
    facet      text   NOT NULL,
    make_id    bigint NOT NULL,
    model_id   bigint NOT NULL,
    status     text   NOT NULL,
    fuel       text   NOT NULL,
    condition  text   NOT NULL,
    body_style text   NOT NULL,
    value      bigint NOT NULL,
    vehicles   bigint NOT NULL,
    PRIMARY KEY (facet, make_id, model_id, status, fuel, condition, body_style, value)
);

-- Each vehicle counts once under each facet of each table: its year, its
-- price step, and in the totals its wide price step. One grouped SELECT
-- per facet and table, its rows in the order of the table's primary key.

CREATE FUNCTION vehicle_facet_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vehicle_facet_rollup AS r (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value, vehicles)
    SELECT * FROM (
        SELECT 'year', n.dealer_id, n.status, n.condition, coalesce(n.body_style, ''), n.fuel, n.make_id, n.model_id, n.year, count(*) FROM new_rows n GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
        UNION ALL
        SELECT 'price', n.dealer_id, n.status, n.condition, coalesce(n.body_style, ''), n.fuel, n.make_id, n.model_id, n.price_cents / 50000, count(*) FROM new_rows n GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    INSERT INTO vehicle_facet_total_rollup AS r (facet, make_id, model_id, status, fuel, condition, body_style, value, vehicles)
    SELECT * FROM (
        SELECT 'year', n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, ''), n.year, count(*) FROM new_rows n GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price', n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, ''), n.price_cents / 50000, count(*) FROM new_rows n GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price_wide', n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, ''), n.price_cents / 500000, count(*) FROM new_rows n GROUP BY 2, 3, 4, 5, 6, 7, 8
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (facet, make_id, model_id, status, fuel, condition, body_style, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The groups exist (their vehicles did): these only ever update.
    INSERT INTO vehicle_facet_rollup AS r (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value, vehicles)
    SELECT * FROM (
        SELECT 'year', o.dealer_id, o.status, o.condition, coalesce(o.body_style, ''), o.fuel, o.make_id, o.model_id, o.year, -count(*) FROM old_rows o GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
        UNION ALL
        SELECT 'price', o.dealer_id, o.status, o.condition, coalesce(o.body_style, ''), o.fuel, o.make_id, o.model_id, o.price_cents / 50000, -count(*) FROM old_rows o GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    INSERT INTO vehicle_facet_total_rollup AS r (facet, make_id, model_id, status, fuel, condition, body_style, value, vehicles)
    SELECT * FROM (
        SELECT 'year', o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.year, -count(*) FROM old_rows o GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price', o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.price_cents / 50000, -count(*) FROM old_rows o GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price_wide', o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.price_cents / 500000, -count(*) FROM old_rows o GROUP BY 2, 3, 4, 5, 6, 7, 8
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (facet, make_id, model_id, status, fuel, condition, body_style, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Each changed row leaves its old values and joins its new ones;
    -- values that did not change cancel out.
    INSERT INTO vehicle_facet_rollup AS r (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value, vehicles)
    SELECT * FROM (
        SELECT 'year', c.dealer_id, c.status, c.condition, c.body_style, c.fuel, c.make_id, c.model_id, c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.status, n.condition, coalesce(n.body_style, '') AS body_style, n.fuel, n.make_id, n.model_id, n.year AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.status, o.condition, coalesce(o.body_style, ''), o.fuel, o.make_id, o.model_id, o.year, -1 FROM old_rows o) c
        GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT 'price', c.dealer_id, c.status, c.condition, c.body_style, c.fuel, c.make_id, c.model_id, c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.status, n.condition, coalesce(n.body_style, '') AS body_style, n.fuel, n.make_id, n.model_id, n.price_cents / 50000 AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.status, o.condition, coalesce(o.body_style, ''), o.fuel, o.make_id, o.model_id, o.price_cents / 50000, -1 FROM old_rows o) c
        GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
        HAVING sum(c.vehicles) <> 0
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    INSERT INTO vehicle_facet_total_rollup AS r (facet, make_id, model_id, status, fuel, condition, body_style, value, vehicles)
    SELECT * FROM (
        SELECT 'year', c.make_id, c.model_id, c.status, c.fuel, c.condition, c.body_style, c.value, sum(c.vehicles)
        FROM (SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, '') AS body_style, n.year AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.year, -1 FROM old_rows o) c
        GROUP BY 2, 3, 4, 5, 6, 7, 8
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT 'price', c.make_id, c.model_id, c.status, c.fuel, c.condition, c.body_style, c.value, sum(c.vehicles)
        FROM (SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, '') AS body_style, n.price_cents / 50000 AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.price_cents / 50000, -1 FROM old_rows o) c
        GROUP BY 2, 3, 4, 5, 6, 7, 8
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT 'price_wide', c.make_id, c.model_id, c.status, c.fuel, c.condition, c.body_style, c.value, sum(c.vehicles)
        FROM (SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, coalesce(n.body_style, '') AS body_style, n.price_cents / 500000 AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.make_id, o.model_id, o.status, o.fuel, o.condition, coalesce(o.body_style, ''), o.price_cents / 500000, -1 FROM old_rows o) c
        GROUP BY 2, 3, 4, 5, 6, 7, 8
        HAVING sum(c.vehicles) <> 0
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (facet, make_id, model_id, status, fuel, condition, body_style, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vehicle_facet_rollup;
    DELETE FROM vehicle_facet_total_rollup;
    RETURN NULL;
END;
$$;

CREATE TRIGGER vehicle_facet_rollup_inserted AFTER INSERT ON vehicles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_facet_rollup_inserted();
CREATE TRIGGER vehicle_facet_rollup_deleted AFTER DELETE ON vehicles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_facet_rollup_deleted();
CREATE TRIGGER vehicle_facet_rollup_updated AFTER UPDATE ON vehicles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_facet_rollup_updated();
CREATE TRIGGER vehicle_facet_rollup_truncated AFTER TRUNCATE ON vehicles
    FOR EACH STATEMENT EXECUTE FUNCTION vehicle_facet_rollup_truncated();

-- The vehicles already there, in key order (rows read by index ranges).
INSERT INTO vehicle_facet_rollup (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value, vehicles)
SELECT 'year', v.dealer_id, v.status, v.condition, coalesce(v.body_style, ''), v.fuel, v.make_id, v.model_id, v.year, count(*) FROM vehicles v GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
UNION ALL
SELECT 'price', v.dealer_id, v.status, v.condition, coalesce(v.body_style, ''), v.fuel, v.make_id, v.model_id, v.price_cents / 50000, count(*) FROM vehicles v GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
INSERT INTO vehicle_facet_total_rollup (facet, make_id, model_id, status, fuel, condition, body_style, value, vehicles)
SELECT 'year', v.make_id, v.model_id, v.status, v.fuel, v.condition, coalesce(v.body_style, ''), v.year, count(*) FROM vehicles v GROUP BY 2, 3, 4, 5, 6, 7, 8
UNION ALL
SELECT 'price', v.make_id, v.model_id, v.status, v.fuel, v.condition, coalesce(v.body_style, ''), v.price_cents / 50000, count(*) FROM vehicles v GROUP BY 2, 3, 4, 5, 6, 7, 8
UNION ALL
SELECT 'price_wide', v.make_id, v.model_id, v.status, v.fuel, v.condition, coalesce(v.body_style, ''), v.price_cents / 500000, count(*) FROM vehicles v GROUP BY 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8;

-- vehicle_rollups_add_vehicles adds the vehicles whose id is above after_id
-- to all five rollups, as the insert triggers of both migrations would, and
-- returns how many it added. It is for a bulk load that dropped those two
-- triggers (vehicle_rollup_inserted and vehicle_facet_rollup_inserted)
-- around its insert (a disabled trigger still fills its transition table),
-- holding the vehicles locked against other writers, so that the new rows
-- are exactly those above the highest id before it.
-- A transition table holds the whole wide rows, and the two triggers scan
-- theirs eight times in all (once per rollup, and per facet), which for a
-- million rows means gigabytes spilled to disk; this copies only the
-- columns the rollups group by into a temporary table, once, and
-- aggregates that. Like
-- the triggers it upserts vehicle_facet_rollup, vehicle_facet_total_rollup,
-- vehicle_rollup, vehicle_total_rollup, then vehicle_color_rollup, each in
-- the order of its primary key.
CREATE FUNCTION vehicle_rollups_add_vehicles(after_id bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    CREATE TEMP TABLE vehicle_rollups_added ON COMMIT DROP AS
    SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, v.condition, coalesce(v.body_style, '') AS body_style,
           coalesce(v.color, '') AS color, coalesce(v.trim, '') AS trim, v.year, v.price_cents
    FROM vehicles v
    WHERE v.id > after_id;
    GET DIAGNOSTICS added = ROW_COUNT;
    ANALYZE vehicle_rollups_added;

    INSERT INTO vehicle_facet_rollup AS r (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value, vehicles)
    SELECT * FROM (
        SELECT 'year', n.dealer_id, n.status, n.condition, n.body_style, n.fuel, n.make_id, n.model_id, n.year, count(*) FROM vehicle_rollups_added n GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
        UNION ALL
        SELECT 'price', n.dealer_id, n.status, n.condition, n.body_style, n.fuel, n.make_id, n.model_id, n.price_cents / 50000, count(*) FROM vehicle_rollups_added n GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT (facet, dealer_id, status, condition, body_style, fuel, make_id, model_id, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    INSERT INTO vehicle_facet_total_rollup AS r (facet, make_id, model_id, status, fuel, condition, body_style, value, vehicles)
    SELECT * FROM (
        SELECT 'year', n.make_id, n.model_id, n.status, n.fuel, n.condition, n.body_style, n.year, count(*) FROM vehicle_rollups_added n GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price', n.make_id, n.model_id, n.status, n.fuel, n.condition, n.body_style, n.price_cents / 50000, count(*) FROM vehicle_rollups_added n GROUP BY 2, 3, 4, 5, 6, 7, 8
        UNION ALL
        SELECT 'price_wide', n.make_id, n.model_id, n.status, n.fuel, n.condition, n.body_style, n.price_cents / 500000, count(*) FROM vehicle_rollups_added n GROUP BY 2, 3, 4, 5, 6, 7, 8
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (facet, make_id, model_id, status, fuel, condition, body_style, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;

    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, n.condition, n.body_style, count(*), sum(n.price_cents)
    FROM vehicle_rollups_added n
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_total_rollup AS r (make_id, model_id, status, fuel, condition, body_style, vehicles, price_cents)
    SELECT n.make_id, n.model_id, n.status, n.fuel, n.condition, n.body_style, count(*), sum(n.price_cents)
    FROM vehicle_rollups_added n
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, condition, body_style) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, trim, vehicles, price_cents)
    SELECT n.make_id, n.model_id, n.status, n.fuel, n.color, n.trim, count(*), sum(n.price_cents)
    FROM vehicle_rollups_added n
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (make_id, model_id, status, fuel, color, trim) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;

    DROP TABLE vehicle_rollups_added;
    RETURN added;
END;
$$;
