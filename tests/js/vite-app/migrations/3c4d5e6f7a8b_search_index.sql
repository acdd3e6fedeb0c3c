-- Revision ID: 3c4d5e6f7a8b
-- Revises: 2b3c4d5e6f7a
-- Branch Labels: search
-- Create Date: 2026-11-22 09:00:00.000000
-- Message: search index on titles

-- migrate:upgrade
CREATE INDEX note_title_idx ON note (lower(title));

-- migrate:downgrade
DROP INDEX note_title_idx;
