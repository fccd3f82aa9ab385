DROP INDEX IF EXISTS vehicles_dealer_id_id_idx;
DROP INDEX IF EXISTS dealers_earth_idx;
-- cube and earthdistance stay: other objects in the database may use them.
