-- What a dealer lists besides the basics: condition, trim, stock number,
-- body, drivetrain, interior, list price (MSRP), a description, features and
-- the day the vehicle arrived on the lot. Every column has a default or is
-- optional, so existing vehicles stay valid (as USED, in stock since they
-- were listed). The checks repeat the API's validation so that no other
-- writer can store what the API would refuse.

ALTER TABLE vehicles
    ADD COLUMN stock_number   text CHECK (stock_number <> '' AND char_length(stock_number) <= 32),
    ADD COLUMN condition      text NOT NULL DEFAULT 'USED' CHECK (condition IN ('NEW', 'USED', 'CERTIFIED')),
    ADD COLUMN trim           text CHECK (trim <> '' AND char_length(trim) <= 100),
    ADD COLUMN body_style     text CHECK (body_style IN ('SEDAN', 'HATCHBACK', 'WAGON', 'COUPE', 'CONVERTIBLE', 'SUV', 'PICKUP', 'VAN', 'MINIVAN')),
    ADD COLUMN transmission   text CHECK (transmission IN ('AUTOMATIC', 'MANUAL', 'CVT')),
    ADD COLUMN drivetrain     text CHECK (drivetrain IN ('FWD', 'RWD', 'AWD', 'FOUR_WD')),
    ADD COLUMN interior_color text CHECK (interior_color <> '' AND char_length(interior_color) <= 50),
    ADD COLUMN msrp_cents     bigint CHECK (msrp_cents > 0),
    ADD COLUMN description    text CHECK (char_length(description) <= 5000),
    ADD COLUMN features       text[] NOT NULL DEFAULT '{}' CHECK (cardinality(features) <= 100),
    ADD COLUMN in_stock_since timestamptz;

-- Existing vehicles arrived when they were listed.
UPDATE vehicles SET in_stock_since = created_at;
ALTER TABLE vehicles
    ALTER COLUMN in_stock_since SET DEFAULT current_timestamp,
    ALTER COLUMN in_stock_since SET NOT NULL;

-- A stock number names one vehicle on its dealer's lot, in any letter case.
-- The stock number leads, so the same index finds a stock number across
-- every dealer (filter.stockNumber).
CREATE UNIQUE INDEX vehicles_dealer_stock_number ON vehicles (lower(stock_number), dealer_id)
    WHERE stock_number IS NOT NULL;
