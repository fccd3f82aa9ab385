-- The vehicle rollups: how many vehicles, and the sum of their prices, for
-- each (dealer, make, model, status, fuel), and for each (make, model,
-- status, fuel, color). Counts and most statistics are read there instead
-- of scanning vehicles: a million vehicles fold into a few thousand rows
-- each. The first answers filters on a dealer; the second, searches whose
-- words name colors ("toyota red"), across all dealers.
--
-- Statement-level triggers on vehicles keep both exact inside the writing
-- transaction, whoever writes (the API, a seed's bulk insert, COPY, psql):
-- each statement adds its transition table's rows once, grouped, so a bulk
-- insert of a million rows costs one aggregate, not a million upserts.
-- Every writer upserts vehicle_rollup first, then vehicle_color_rollup,
-- each in key order, so two writers touching the same groups lock them in
-- the same order and cannot deadlock on them. A group whose vehicles are
-- all gone keeps a row with zero counts.

CREATE TABLE vehicle_rollup (
    dealer_id   bigint NOT NULL,
    make_id     bigint NOT NULL,
    model_id    bigint NOT NULL,
    status      text   NOT NULL,
    fuel        text   NOT NULL,
    vehicles    bigint NOT NULL,
    price_cents bigint NOT NULL,
    PRIMARY KEY (dealer_id, make_id, model_id, status, fuel)
);

CREATE TABLE vehicle_color_rollup (
    make_id     bigint NOT NULL,
    model_id    bigint NOT NULL,
    status      text   NOT NULL,
    fuel        text   NOT NULL,
    -- '' for vehicles without a color: no search word matches either.
    color       text   NOT NULL,
    vehicles    bigint NOT NULL,
    price_cents bigint NOT NULL,
    PRIMARY KEY (make_id, model_id, status, fuel, color)
);

CREATE FUNCTION vehicle_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, vehicles, price_cents)
    SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, count(*), sum(n.price_cents)
    FROM new_rows n
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, vehicles, price_cents)
    SELECT n.make_id, n.model_id, n.status, n.fuel, coalesce(n.color, ''), count(*), sum(n.price_cents)
    FROM new_rows n
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (make_id, model_id, status, fuel, color) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The groups exist (their vehicles did): these only ever update.
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, vehicles, price_cents)
    SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, -count(*), -sum(o.price_cents)
    FROM old_rows o
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, vehicles, price_cents)
    SELECT o.make_id, o.model_id, o.status, o.fuel, coalesce(o.color, ''), -count(*), -sum(o.price_cents)
    FROM old_rows o
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (make_id, model_id, status, fuel, color) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Each changed row leaves its old groups and joins its new ones; rows
    -- whose groups and price did not change cancel out.
    INSERT INTO vehicle_rollup AS r (dealer_id, make_id, model_id, status, fuel, vehicles, price_cents)
    SELECT c.dealer_id, c.make_id, c.model_id, c.status, c.fuel, sum(c.vehicles), sum(c.price_cents)
    FROM (
        SELECT n.dealer_id, n.make_id, n.model_id, n.status, n.fuel, 1 AS vehicles, n.price_cents FROM new_rows n
        UNION ALL
        SELECT o.dealer_id, o.make_id, o.model_id, o.status, o.fuel, -1, -o.price_cents FROM old_rows o
    ) c
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(c.vehicles) <> 0 OR sum(c.price_cents) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (dealer_id, make_id, model_id, status, fuel) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    INSERT INTO vehicle_color_rollup AS r (make_id, model_id, status, fuel, color, vehicles, price_cents)
    SELECT c.make_id, c.model_id, c.status, c.fuel, c.color, sum(c.vehicles), sum(c.price_cents)
    FROM (
        SELECT n.make_id, n.model_id, n.status, n.fuel, coalesce(n.color, '') AS color, 1 AS vehicles, n.price_cents FROM new_rows n
        UNION ALL
        SELECT o.make_id, o.model_id, o.status, o.fuel, coalesce(o.color, ''), -1, -o.price_cents FROM old_rows o
    ) c
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(c.vehicles) <> 0 OR sum(c.price_cents) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (make_id, model_id, status, fuel, color) DO UPDATE
        SET vehicles = r.vehicles + EXCLUDED.vehicles, price_cents = r.price_cents + EXCLUDED.price_cents;
    RETURN NULL;
END;
$$;

CREATE FUNCTION vehicle_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vehicle_rollup;
    DELETE FROM vehicle_color_rollup;
    RETURN NULL;
END;
$$;

CREATE TRIGGER vehicle_rollup_inserted AFTER INSERT ON vehicles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_rollup_inserted();
CREATE TRIGGER vehicle_rollup_deleted AFTER DELETE ON vehicles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_rollup_deleted();
CREATE TRIGGER vehicle_rollup_updated AFTER UPDATE ON vehicles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vehicle_rollup_updated();
CREATE TRIGGER vehicle_rollup_truncated AFTER TRUNCATE ON vehicles
    FOR EACH STATEMENT EXECUTE FUNCTION vehicle_rollup_truncated();

-- The vehicles already there.
INSERT INTO vehicle_rollup (dealer_id, make_id, model_id, status, fuel, vehicles, price_cents)
SELECT dealer_id, make_id, model_id, status, fuel, count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO vehicle_color_rollup (make_id, model_id, status, fuel, color, vehicles, price_cents)
SELECT make_id, model_id, status, fuel, coalesce(color, ''), count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5;
