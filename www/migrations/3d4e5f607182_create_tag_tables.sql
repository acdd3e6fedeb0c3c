-- Revision ID: 3d4e5f607182
-- Revises: 2c3d4e5f6071
-- Create Date: 2026-11-27 09:30:00.000000
-- Message: create tag tables

-- migrate:upgrade
CREATE TABLE tag (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE note_tag (
    note_id INTEGER NOT NULL REFERENCES note (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    PRIMARY KEY (note_id, tag_id)
) WITHOUT ROWID;
INSERT INTO migration_log (revision, direction) VALUES ('3d4e5f607182', 'upgrade');

-- migrate:downgrade
DROP TABLE note_tag;
DROP TABLE tag;
INSERT INTO migration_log (revision, direction) VALUES ('3d4e5f607182', 'downgrade');
