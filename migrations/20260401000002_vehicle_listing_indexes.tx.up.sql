-- Indexes for the listing details' filters and search, so that neither a
-- page nor its totalCount reads the whole table on a million vehicles.
--
-- Search matches trims and stock numbers by substring (ILIKE '%word%'), as
-- it does VINs and colors: trigram indexes, OR-ed with the others.
CREATE INDEX vehicles_trim_trgm_idx         ON vehicles USING gin (trim gin_trgm_ops);
CREATE INDEX vehicles_stock_number_trgm_idx ON vehicles USING gin (stock_number gin_trgm_ops);

-- filter.stockNumber is served by the unique index on (lower(stock_number),
-- dealer_id).

-- Condition and body style are storefront filters. Few values each, so a
-- page newest first walks the created_at index cheaply for the common ones;
-- these serve the rare ones (a convertible, a certified car) and count any
-- of them without visiting the table once vacuum has marked it visible.
CREATE INDEX vehicles_condition_created_at_id_idx  ON vehicles (condition, created_at, id);
CREATE INDEX vehicles_body_style_created_at_id_idx ON vehicles (body_style, created_at, id);

-- Transmission and drivetrain have no index: they narrow other filters,
-- and on their own a page newest first finds its rows early on the
-- created_at index. Every index is rebuilt by a bulk seed and updated by
-- every write; these two would not pay for it.
