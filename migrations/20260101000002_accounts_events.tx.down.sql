DROP TABLE IF EXISTS vehicle_events;
DROP FUNCTION IF EXISTS vehicle_events_notify();
DROP FUNCTION IF EXISTS vehicle_events_append_only();
DROP TABLE IF EXISTS vehicle_event_sequence;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS users;
