const file = (id, revises, up, down, marker = "") => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade${marker}\n${up}\n\n-- migrate:downgrade\n${down}\n`;
export const migrations = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);", "DROP TABLE item;"),
  // Outside the run's transaction, as a table rebuild is: on OPFS too, the file is held
  // from the check to the version row and then handed back (the page opens it next).
  "b2b2_b.sql": file("b2b2", "a1a1", "PRAGMA foreign_keys=OFF;\nBEGIN;\nINSERT INTO item (name) VALUES ('from the worker');\nCOMMIT;\nPRAGMA foreign_keys=ON;", "DELETE FROM item;", " transaction:false"),
};
