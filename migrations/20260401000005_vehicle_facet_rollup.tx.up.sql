-- The facet rollup: for each (dealer, make, model, status, fuel) group of
-- vehicle_rollup, how many of its vehicles have each condition, body style
-- ('' for none), model year and price step of $500 (the price in cents
-- divided by 50,000). vehicleStats reads its facets here when
-- vehicle_rollup answers the filter (fuel counts come from vehicle_rollup
-- itself), so a facet over a million vehicles folds a few thousand rows
-- instead of scanning them; a price histogram whose bucket is a multiple of
-- $500 is exact from the steps.
--
-- Statement-level triggers keep it exact in the writing transaction, like
-- the vehicle rollups (see 20260201000001_vehicle_rollup). Triggers of one
-- event fire in name order, so every writer upserts vehicle_facet_rollup
-- before vehicle_rollup and vehicle_color_rollup, each in the same order
-- of their rows, and two writers cannot deadlock on the groups. A group whose vehicles are all
-- gone keeps a row with a zero count.

CREATE TABLE vehicle_facet_rollup (
    dealer_id bigint NOT NULL,
    make_id   bigint NOT NULL,
    model_id  bigint NOT NULL,
    status    text   NOT NULL,
    fuel      text   NOT NULL,
    -- 'condition', 'body_style', 'year' or 'price' (the $500 step).
    facet     text   NOT NULL,
    value     text   NOT NULL,
    vehicles  bigint NOT NULL,
    -- Facet first: a statement reads one facet's rows, of a dealer or of
    -- all of them.
    PRIMARY KEY (facet, dealer_id, make_id, model_id, status, fuel, value)
);

-- Each vehicle counts once under each facet: its condition, its body style,
-- its year and its price step. One grouped SELECT per facet (UNION ALL)
-- costs half of what one aggregate over four rows per vehicle did.

CREATE FUNCTION vehicle_facet_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vehicle_facet_rollup AS r (dealer_id, make_id, model_id, status, fuel, facet, value, vehicles)
    SELECT * FROM (
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, 'condition', n.condition, count(*) FROM new_rows n GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, 'body_style', coalesce(n.body_style, ''), count(*) FROM new_rows n GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, 'year', n.year::text, count(*) FROM new_rows n GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, 'price', (n.price_cents / 50000)::text, count(*) FROM new_rows n GROUP BY 1, 2, 3, 4, 5, 7
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (facet, dealer_id, make_id, model_id, status, fuel, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The groups exist (their vehicles did): these only ever update.
    INSERT INTO vehicle_facet_rollup AS r (dealer_id, make_id, model_id, status, fuel, facet, value, vehicles)
    SELECT * FROM (
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, 'condition', o.condition, -count(*) FROM old_rows o GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, 'body_style', coalesce(o.body_style, ''), -count(*) FROM old_rows o GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, 'year', o.year::text, -count(*) FROM old_rows o GROUP BY 1, 2, 3, 4, 5, 7
        UNION ALL
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, 'price', (o.price_cents / 50000)::text, -count(*) FROM old_rows o GROUP BY 1, 2, 3, 4, 5, 7
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (facet, dealer_id, make_id, model_id, status, fuel, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Each changed row leaves its old facet values and joins its new ones;
    -- values that did not change cancel out.
    INSERT INTO vehicle_facet_rollup AS r (dealer_id, make_id, model_id, status, fuel, facet, value, vehicles)
    SELECT * FROM (
        SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, 'condition', c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, n.condition AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, o.condition, -1 FROM old_rows o) c
        GROUP BY 1, 2, 3, 4, 5, 7
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, 'body_style', c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, coalesce(n.body_style, '') AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, coalesce(o.body_style, ''), -1 FROM old_rows o) c
        GROUP BY 1, 2, 3, 4, 5, 7
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, 'year', c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, n.year::text AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, o.year::text, -1 FROM old_rows o) c
        GROUP BY 1, 2, 3, 4, 5, 7
        HAVING sum(c.vehicles) <> 0
        UNION ALL
        SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, 'price', c.value, sum(c.vehicles)
        FROM (SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, (n.price_cents / 50000)::text AS value, 1 AS vehicles FROM new_rows n
              UNION ALL
              SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, (o.price_cents / 50000)::text, -1 FROM old_rows o) c
        GROUP BY 1, 2, 3, 4, 5, 7
        HAVING sum(c.vehicles) <> 0
    ) f
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (facet, dealer_id, make_id, model_id, status, fuel, value) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_facet_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vehicle_facet_rollup;
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

-- The vehicles already there.
INSERT INTO vehicle_facet_rollup (dealer_id, make_id, model_id, status, fuel, facet, value, vehicles)
SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, 'condition', v.condition, count(*) FROM vehicles v GROUP BY 1, 2, 3, 4, 5, 7
UNION ALL
SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, 'body_style', coalesce(v.body_style, ''), count(*) FROM vehicles v GROUP BY 1, 2, 3, 4, 5, 7
UNION ALL
SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, 'year', v.year::text, count(*) FROM vehicles v GROUP BY 1, 2, 3, 4, 5, 7
UNION ALL
SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, 'price', (v.price_cents / 50000)::text, count(*) FROM vehicles v GROUP BY 1, 2, 3, 4, 5, 7;
