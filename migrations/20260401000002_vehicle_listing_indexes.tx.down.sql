DROP INDEX IF EXISTS vehicles_body_style_created_at_id_idx;
DROP INDEX IF EXISTS vehicles_condition_created_at_id_idx;
DROP INDEX IF EXISTS vehicles_stock_number_trgm_idx;
DROP INDEX IF EXISTS vehicles_trim_trgm_idx;
