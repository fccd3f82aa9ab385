DROP INDEX IF EXISTS vehicles_dealer_stock_number;
ALTER TABLE vehicles
    DROP COLUMN IF EXISTS in_stock_since,
    DROP COLUMN IF EXISTS features,
    DROP COLUMN IF EXISTS description,
    DROP COLUMN IF EXISTS msrp_cents,
    DROP COLUMN IF EXISTS interior_color,
    DROP COLUMN IF EXISTS drivetrain,
    DROP COLUMN IF EXISTS transmission,
    DROP COLUMN IF EXISTS body_style,
    DROP COLUMN IF EXISTS trim,
    DROP COLUMN IF EXISTS condition,
    DROP COLUMN IF EXISTS stock_number;
