-- Search by distance. A vehicle is where its dealer is, so a radius search
-- first finds the dealers inside the circle, through a GiST index on their
-- position on the earth (PostgreSQL's cube and earthdistance extensions,
-- shipped with PostgreSQL), then reads those dealers' vehicles through the
-- per-dealer indexes. Dealers without coordinates are never near anything.
--
-- cube is a trusted extension (the database's owner may create it);
-- earthdistance is not: where Carlot's role is no superuser, a superuser
-- creates it once beforehand (see the README's operations section), and
-- IF NOT EXISTS then finds it.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE INDEX dealers_earth_idx ON dealers USING gist (ll_to_earth(latitude, longitude))
    WHERE latitude IS NOT NULL;

-- Ordered by distance, a dealer's vehicles are all equally far: each
-- dealer's part of the page is its vehicles in id order.
CREATE INDEX vehicles_dealer_id_id_idx ON vehicles (dealer_id, id);
