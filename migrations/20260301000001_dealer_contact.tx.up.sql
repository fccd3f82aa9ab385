-- A dealer's location and contact details, all optional so that existing
-- dealers stay valid. The checks repeat the API's validation so that no
-- other writer can store what the API would refuse.

ALTER TABLE dealers
    ADD COLUMN latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN postal_code text CHECK (postal_code <> '' AND char_length(postal_code) <= 16),
    ADD COLUMN phone       text CHECK (phone ~ '^[0-9 +()-]+$' AND length(regexp_replace(phone, '[^0-9]', '', 'g')) BETWEEN 5 AND 20),
    ADD COLUMN website     text CHECK (website ~* '^https?://' AND char_length(website) <= 2000),
    ADD CONSTRAINT dealers_coordinates_together CHECK ((latitude IS NULL) = (longitude IS NULL));
