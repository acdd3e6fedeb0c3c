-- Revision ID: 5f60718293a4
-- Revises: 4e5f60718293
-- Create Date: 2026-11-27 09:50:00.000000
-- Message: rebuild note without tags column

-- migrate:upgrade
-- SQLite cannot add a CHECK or NOT NULL to a column in place: rebuild the table (the
-- connection has foreign keys off, as SQLite's 12-step procedure asks). Untitled notes
-- get a title from their body first.
UPDATE note SET title = coalesce(nullif(trim(title), ''), substr(body, 1, 40), 'Untitled')
    WHERE title IS NULL OR trim(title) = '';
CREATE TABLE note_new (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(title) > 0),
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    pinned INTEGER NOT NULL DEFAULT 0
);
INSERT INTO note_new (id, title, body, created_at, pinned)
    SELECT id, title, body, created_at, pinned FROM note;
DROP TABLE note;
ALTER TABLE note_new RENAME TO note;
CREATE INDEX note_pinned ON note (pinned DESC, created_at DESC);
INSERT INTO migration_log (revision, direction) VALUES ('5f60718293a4', 'upgrade');

-- migrate:downgrade
CREATE TABLE note_old (
    id INTEGER PRIMARY KEY,
    title TEXT,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    tags TEXT NOT NULL DEFAULT '',
    pinned INTEGER NOT NULL DEFAULT 0
);
INSERT INTO note_old (id, title, body, created_at, pinned)
    SELECT id, title, body, created_at, pinned FROM note;
DROP TABLE note;
ALTER TABLE note_old RENAME TO note;
CREATE INDEX note_pinned ON note (pinned DESC, created_at DESC);
INSERT INTO migration_log (revision, direction) VALUES ('5f60718293a4', 'downgrade');
