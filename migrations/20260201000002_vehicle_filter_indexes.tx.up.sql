-- Filtered storefront pages. PostgreSQL reads a page in order from an
-- index whose leading columns the filter fixes by equality and whose next
-- column is the sort key; status and fuel are the filters a storefront
-- combines most (AVAILABLE cars, ELECTRIC ones), with its default order
-- (newest first) and by price. Filters on one of them alone, or with other
-- orders, walk the plain sort-key index and skip the rows that do not
-- match, which stays short because each value is common.
--
-- The SQL must say "status = 'AVAILABLE'", not "status = ANY('{AVAILABLE}')":
-- PostgreSQL 15 does not read an index in order under ANY.
CREATE INDEX vehicles_status_fuel_created_at_id_idx  ON vehicles (status, fuel, created_at, id);
CREATE INDEX vehicles_status_fuel_price_cents_id_idx ON vehicles (status, fuel, price_cents, id);

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
