-- Revision ID: 4e5f60718293
-- Revises: 3d4e5f607182
-- Create Date: 2026-11-27 09:40:00.000000
-- Message: move tags into tag tables

-- migrate:upgrade
-- A data migration: every note's comma-separated tags become rows of tag / note_tag
-- (trimmed, lower-cased, duplicates merged), and the old column is emptied.
CREATE TEMP TABLE split_tag AS
WITH RECURSIVE part (note_id, rest, tag) AS (
    SELECT id, tags || ',', NULL FROM note
    UNION ALL
    SELECT note_id, substr(rest, instr(rest, ',') + 1), lower(trim(substr(rest, 1, instr(rest, ',') - 1)))
    FROM part WHERE rest <> ''
)
SELECT DISTINCT note_id, tag FROM part WHERE tag IS NOT NULL AND tag <> '';
INSERT OR IGNORE INTO tag (name) SELECT DISTINCT tag FROM split_tag ORDER BY tag;
INSERT OR IGNORE INTO note_tag (note_id, tag_id)
    SELECT s.note_id, t.id FROM split_tag s JOIN tag t ON t.name = s.tag;
DROP TABLE split_tag;
UPDATE note SET tags = '' WHERE tags <> '';
INSERT INTO migration_log (revision, direction) VALUES ('4e5f60718293', 'upgrade');

-- migrate:downgrade
UPDATE note SET tags = coalesce((
    SELECT group_concat(name, ', ') FROM (
        SELECT t.name FROM note_tag nt JOIN tag t ON t.id = nt.tag_id
        WHERE nt.note_id = note.id ORDER BY t.name
    )
), '');
DELETE FROM note_tag;
DELETE FROM tag;
INSERT INTO migration_log (revision, direction) VALUES ('4e5f60718293', 'downgrade');
