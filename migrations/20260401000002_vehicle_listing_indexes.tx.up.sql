-- Indexes for the listing details' filters and search, so that neither a
-- page nor its totalCount reads the whole table on a million vehicles.
--
-- Search matches trims and stock numbers by substring (ILIKE '%word%'), as
-- it does VINs and colors: trigram indexes, OR-ed with the others.
CREATE INDEX vehicles_trim_trgm_idx         ON vehicles USING gin (trim gin_trgm_ops);
CREATE INDEX vehicles_stock_number_trgm_idx ON vehicles USING gin (stock_number gin_trgm_ops);

-- filter.stockNumber compares lower(stock_number) across all dealers; the
-- unique index (dealer_id, lower(stock_number)) serves it only for one
-- dealer.
CREATE INDEX vehicles_lower_stock_number_idx ON vehicles (lower(stock_number));

-- Condition and body style are storefront filters. Few values each, so a
-- page newest first walks the created_at index cheaply for the common ones;
-- these serve the rare ones (a convertible, a certified car) and count any
-- of them without visiting the table once vacuum has marked it visible.
CREATE INDEX vehicles_condition_created_at_id_idx  ON vehicles (condition, created_at, id);
CREATE INDEX vehicles_body_style_created_at_id_idx ON vehicles (body_style, created_at, id);

-- Transmission and drivetrain are mostly combined with other filters; on
-- their own (manual cars, four-wheel drive) these keep a count off the heap.
CREATE INDEX vehicles_transmission_idx ON vehicles (transmission);
CREATE INDEX vehicles_drivetrain_idx   ON vehicles (drivetrain);
