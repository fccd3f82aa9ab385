DROP TABLE IF EXISTS vehicles;
DROP TABLE IF EXISTS dealers;
DROP TABLE IF EXISTS models;
DROP TABLE IF EXISTS makes;
-- pg_trgm stays: other objects in the database may use it.
