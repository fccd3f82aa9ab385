CREATE INDEX IF NOT EXISTS vehicles_make_id_idx  ON vehicles (make_id);
DROP INDEX IF EXISTS vehicles_model_price_cents_id_idx;
DROP INDEX IF EXISTS vehicles_make_price_cents_id_idx;
DROP INDEX IF EXISTS vehicles_status_fuel_price_cents_id_idx;
