-- Revision ID: 708192a3b4c5
-- Revises: 5f60718293a4
-- Create Date: 2026-11-27 10:10:00.000000
-- Message: fill search table

-- migrate:upgrade
-- Long on purpose (loaded with ?migrations=slow): seconds of work, so a test can close
-- the tab while it runs.
CREATE TABLE search_word (id INTEGER PRIMARY KEY, word TEXT NOT NULL, weight REAL NOT NULL);
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO search_word (word, weight) SELECT hex(randomblob(8)), i * 0.5 FROM n;
CREATE INDEX search_word_word ON search_word (word);
INSERT INTO migration_log (revision, direction) VALUES ('708192a3b4c5', 'upgrade');

-- migrate:downgrade
DROP TABLE search_word;
INSERT INTO migration_log (revision, direction) VALUES ('708192a3b4c5', 'downgrade');
