-- Revision ID: 7a8b9c0d1e2f
-- Revises: 6f7a8b9c0d1e
-- Create Date: 2026-11-25 09:00:00.000000
-- Message: archive notes

-- migrate:upgrade
ALTER TABLE note ADD COLUMN archived_at TEXT;
CREATE INDEX note_live_idx ON note (id) WHERE archived_at IS NULL;

-- migrate:downgrade
DROP INDEX note_live_idx;
ALTER TABLE note DROP COLUMN archived_at;
