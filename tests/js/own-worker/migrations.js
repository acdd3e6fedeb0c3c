const file = (id, revises, up, down) => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n${down}\n`;
export const migrations = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);", "DROP TABLE item;"),
  "b2b2_b.sql": file("b2b2", "a1a1", "INSERT INTO item (name) VALUES ('from the worker');", "DELETE FROM item;"),
};
