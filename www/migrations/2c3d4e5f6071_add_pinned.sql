-- Revision ID: 2c3d4e5f6071
-- Revises: 1b2c3d4e5f60
-- Create Date: 2026-11-27 09:20:00.000000
-- Message: add pinned

-- migrate:upgrade
ALTER TABLE note ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX note_pinned ON note (pinned DESC, created_at DESC);
INSERT INTO migration_log (revision, direction) VALUES ('2c3d4e5f6071', 'upgrade');

-- migrate:downgrade
DROP INDEX note_pinned;
ALTER TABLE note DROP COLUMN pinned;
INSERT INTO migration_log (revision, direction) VALUES ('2c3d4e5f6071', 'downgrade');
