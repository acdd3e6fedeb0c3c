-- Revision ID: 4d5e6f7a8b9c
-- Revises: 3c4d5e6f7a8b
-- Create Date: 2026-11-23 09:00:00.000000
-- Message: keep a word count per note

-- migrate:upgrade
ALTER TABLE note ADD COLUMN words INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER note_words AFTER UPDATE OF body ON note BEGIN
    UPDATE note SET words = length(NEW.body) - length(replace(NEW.body, ' ', '')) + 1
    WHERE id = NEW.id;
END;

-- migrate:downgrade
DROP TRIGGER note_words;
ALTER TABLE note DROP COLUMN words;
