-- The photo files stay in MEDIA_DIR; without rows nothing refers to them.
DROP TABLE IF EXISTS vehicle_photos;
