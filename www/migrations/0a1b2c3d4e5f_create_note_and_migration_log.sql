-- Revision ID: 0a1b2c3d4e5f
-- Revises:
-- Create Date: 2026-11-27 09:00:00.000000
-- Message: create note and migration log

-- migrate:upgrade
-- Every migration writes a line here, so the demo (and its tests) can see that each
-- ran exactly once, even with several tabs loading at the same moment.
CREATE TABLE migration_log (
    id INTEGER PRIMARY KEY,
    revision TEXT NOT NULL,
    direction TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE note (
    id INTEGER PRIMARY KEY,
    title TEXT,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
INSERT INTO migration_log (revision, direction) VALUES ('0a1b2c3d4e5f', 'upgrade');

-- migrate:downgrade
DROP TABLE note;
DROP TABLE migration_log;
