-- Revision ID: 6071829304b5
-- Revises: 5f60718293a4
-- Create Date: 2026-11-27 10:00:00.000000
-- Message: add attachments

-- migrate:upgrade
-- Broken on purpose (loaded with ?migrations=broken): good statements, then one that
-- fails. Nothing of this revision may stay behind.
CREATE TABLE attachment (
    id INTEGER PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES note (id) ON DELETE CASCADE,
    name TEXT NOT NULL
);
INSERT INTO attachment (note_id, name) SELECT id, 'cover.png' FROM note;
UPDATE note SET title = title || ' (with attachment)';
INSERT INTO attachments_typo (name) VALUES ('oops');
INSERT INTO migration_log (revision, direction) VALUES ('6071829304b5', 'upgrade');

-- migrate:downgrade
DROP TABLE attachment;
