-- The catalog: makes and their models, dealers, and the vehicles on their lots.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE makes (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> '')
);
CREATE UNIQUE INDEX makes_name_key ON makes (lower(name));

CREATE TABLE models (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    make_id bigint NOT NULL REFERENCES makes (id),
    name    text   NOT NULL CHECK (name <> ''),
    -- Lets vehicles reference (model, make) together, so their make can never disagree with their model.
    UNIQUE (id, make_id)
);
CREATE UNIQUE INDEX models_make_name_key ON models (make_id, lower(name));

CREATE TABLE dealers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    city       text        NOT NULL CHECK (city <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination of dealers by name.
CREATE INDEX dealers_name_id_idx ON dealers (name, id);

CREATE TABLE vehicles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vin         text        NOT NULL CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    make_id     bigint      NOT NULL,
    model_id    bigint      NOT NULL,
    dealer_id   bigint      NOT NULL REFERENCES dealers (id),
    year        integer     NOT NULL CHECK (year >= 1886),
    color       text,
    mileage_km  integer     NOT NULL CHECK (mileage_km >= 0),
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    fuel        text        NOT NULL CHECK (fuel IN ('GASOLINE', 'DIESEL', 'HYBRID', 'ELECTRIC')),
    status      text        NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'RESERVED', 'SOLD')),
    version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (model_id, make_id) REFERENCES models (id, make_id)
);
CREATE UNIQUE INDEX vehicles_vin_key ON vehicles (vin);

-- Keyset pagination: one index per orderable field, each ending in id so the
-- order is total and the (key, id) row comparison is an index range scan.
CREATE INDEX vehicles_created_at_id_idx  ON vehicles (created_at, id);
CREATE INDEX vehicles_price_cents_id_idx ON vehicles (price_cents, id);
CREATE INDEX vehicles_year_id_idx        ON vehicles (year, id);
CREATE INDEX vehicles_mileage_km_id_idx  ON vehicles (mileage_km, id);

-- A dealer's lot: the nested Dealer.vehicles connection (newest first by
-- default) and the common "this dealer's cars by price" listing.
CREATE INDEX vehicles_dealer_created_at_id_idx  ON vehicles (dealer_id, created_at, id);
CREATE INDEX vehicles_dealer_price_cents_id_idx ON vehicles (dealer_id, price_cents, id);

-- Filters and foreign keys.
CREATE INDEX vehicles_make_id_idx  ON vehicles (make_id);
CREATE INDEX vehicles_model_id_idx ON vehicles (model_id);

-- Substring search (ILIKE '%term%') on VIN and color; make and model names
-- are matched through their small tables.
CREATE INDEX vehicles_vin_trgm_idx   ON vehicles USING gin (vin gin_trgm_ops);
CREATE INDEX vehicles_color_trgm_idx ON vehicles USING gin (color gin_trgm_ops);
