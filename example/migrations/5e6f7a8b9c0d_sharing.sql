-- Revision ID: 5e6f7a8b9c0d
-- Revises: 2b3c4d5e6f7a
-- Branch Labels: sharing
-- Create Date: 2026-11-22 10:00:00.000000
-- Message: share notes by link

-- migrate:upgrade
CREATE TABLE share (
    token TEXT PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES note(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);

-- migrate:downgrade
DROP TABLE share;
