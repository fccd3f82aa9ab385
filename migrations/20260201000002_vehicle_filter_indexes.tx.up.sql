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
