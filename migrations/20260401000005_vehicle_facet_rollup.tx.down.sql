DROP FUNCTION IF EXISTS vehicle_rollups_add_vehicles(bigint);
DROP TRIGGER IF EXISTS vehicle_facet_rollup_truncated ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_updated ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_deleted ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_inserted ON vehicles;
DROP FUNCTION IF EXISTS vehicle_facet_rollup_truncated();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_updated();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_deleted();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_inserted();
DROP TABLE IF EXISTS vehicle_facet_total_rollup;
DROP TABLE IF EXISTS vehicle_facet_rollup;

-- The vehicle rollups as 20260201000001_vehicle_rollup made them: without
-- condition, body style and trim.
CREATE OR REPLACE FUNCTION vehicle_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION vehicle_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION vehicle_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION vehicle_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vehicle_rollup;
    DELETE FROM vehicle_color_rollup;
    RETURN NULL;
END;
$$;

DROP TABLE IF EXISTS vehicle_total_rollup;
DELETE FROM vehicle_rollup;
ALTER TABLE vehicle_rollup
    DROP CONSTRAINT vehicle_rollup_pkey,
    DROP COLUMN condition,
    DROP COLUMN body_style,
    ADD PRIMARY KEY (dealer_id, make_id, model_id, status, fuel);
INSERT INTO vehicle_rollup (dealer_id, make_id, model_id, status, fuel, vehicles, price_cents)
SELECT dealer_id, make_id, model_id, status, fuel, count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5;

DROP INDEX IF EXISTS vehicle_color_rollup_model_id_idx;
DROP INDEX IF EXISTS vehicle_color_rollup_words_idx;
DELETE FROM vehicle_color_rollup;
ALTER TABLE vehicle_color_rollup
    DROP CONSTRAINT vehicle_color_rollup_pkey,
    DROP COLUMN trim,
    ADD PRIMARY KEY (make_id, model_id, status, fuel, color);
INSERT INTO vehicle_color_rollup (make_id, model_id, status, fuel, color, vehicles, price_cents)
SELECT make_id, model_id, status, fuel, coalesce(color, ''), count(*), sum(price_cents)
FROM vehicles
GROUP BY 1, 2, 3, 4, 5;
