-- Revision ID: 1a2b3c4d5e6f
-- Revises:
-- Create Date: 2026-11-20 09:00:00.000000
-- Message: create notes

-- migrate:upgrade
CREATE TABLE note (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);

-- migrate:downgrade
DROP TABLE note;
