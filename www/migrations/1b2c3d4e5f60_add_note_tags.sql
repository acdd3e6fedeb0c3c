-- Revision ID: 1b2c3d4e5f60
-- Revises: 0a1b2c3d4e5f
-- Create Date: 2026-11-27 09:10:00.000000
-- Message: add note tags

-- migrate:upgrade
-- Tags start life as one comma-separated text column.
ALTER TABLE note ADD COLUMN tags TEXT NOT NULL DEFAULT '';
INSERT INTO migration_log (revision, direction) VALUES ('1b2c3d4e5f60', 'upgrade');

-- migrate:downgrade
ALTER TABLE note DROP COLUMN tags;
INSERT INTO migration_log (revision, direction) VALUES ('1b2c3d4e5f60', 'downgrade');
