-- Filtered storefront pages. PostgreSQL reads a page in order from an
-- index whose leading columns the filter fixes by equality and whose next
-- column is the sort key. Status and fuel are the filters a storefront
-- combines most (AVAILABLE cars, ELECTRIC ones); sorted by price, their
-- rows are scattered over the table, and walking the price index skipped a
-- hundred thousand of them for a cheap, recent, electric car. Newest first
-- (the default) needs no such index: the created_at index follows the
-- table's physical order, so skipping rows there is cheap (the rarest pair,
-- SOLD and DIESEL, reads 12,000 entries in a few milliseconds). Filters on
-- one of them alone walk the sort-key index, which stays short because
-- each value is common.
--
-- It carries year and mileage too, so the rest of a storefront filter is
-- checked in the index: the page visits only matching rows, and its
-- totalCount (20,000 matches for that electric car) is an index-only scan
-- of 200 pages instead of a visit to 13,000 heap pages, once vacuum has
-- marked the pages all-visible.
--
-- The SQL must say "status = 'AVAILABLE'", not "status = ANY('{AVAILABLE}')":
-- PostgreSQL 15 does not read an index in order under ANY.
CREATE INDEX vehicles_status_fuel_price_cents_id_idx ON vehicles (status, fuel, price_cents, id) INCLUDE (year, mileage_km);

-- A make's or a model's cheapest and dearest vehicle (vehicleStats by make
-- or model) are the two ends of its range in these; the plain price index
-- would be walked past every other make's vehicles first. They also serve
-- "this make's (model's) cars by price". The make's replaces the
-- single-column make index. The single-column model index stays: search
-- ORs its bitmap (model_id = ANY(...)) with the trigram ones, and with the
-- wider index PostgreSQL prices that bitmap too high and filters a
-- hundred thousand rows instead.
CREATE INDEX vehicles_make_price_cents_id_idx  ON vehicles (make_id, price_cents, id);
CREATE INDEX vehicles_model_price_cents_id_idx ON vehicles (model_id, price_cents, id);
DROP INDEX vehicles_make_id_idx;
