-- Revision ID: 6071829304b5
-- Revises: 5f60718293a4
-- Create Date: 2026-11-27 10:00:00.000000
-- Message: add attachments

-- migrate:upgrade
-- The broken revision, fixed (loaded with ?migrations=fixed).
CREATE TABLE attachment (
    id INTEGER PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES note (id) ON DELETE CASCADE,
    name TEXT NOT NULL
);
INSERT INTO migration_log (revision, direction) VALUES ('6071829304b5', 'upgrade');

-- migrate:downgrade
DROP TABLE attachment;
INSERT INTO migration_log (revision, direction) VALUES ('6071829304b5', 'downgrade');
