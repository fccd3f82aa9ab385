ALTER TABLE dealers
    DROP CONSTRAINT IF EXISTS dealers_coordinates_together,
    DROP COLUMN IF EXISTS website,
    DROP COLUMN IF EXISTS phone,
    DROP COLUMN IF EXISTS postal_code,
    DROP COLUMN IF EXISTS longitude,
    DROP COLUMN IF EXISTS latitude;
