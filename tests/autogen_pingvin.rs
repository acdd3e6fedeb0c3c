//! Autogenerate on pingvin-share's real history (tests/fixtures/corpus/pingvin-share), where
//! a rename cannot be guessed: its `v0_11_0` migration turns `Config.key` into `name`
//! (NOT NULL, no default) and makes the primary key `(name, category)`, filling `name`
//! by hand-written INSERTs. Declaring that schema and autogenerating from the revision
//! before it gives a drop of `key` and an add of `name`, by a table rebuild whose copy
//! leaves `name` NULL. With rows in `Config` the generated migration must fail loudly
//! (MIGRATION_FAILED naming the copy statement) and leave the database as it was; with
//! no rows it must succeed and reach the declared schema, and its downgrade come back.
//!
//! Everything runs through the CLI layer (`athanor::cli::run`), as a user would.
//! Override the corpus location with `ATHANOR_CORPUS=/path/to/corpus`.

mod common;

use std::path::{Path, PathBuf};

use athanor::autogen::{self, Schema};
use athanor::cli::{run, NativeHost, Output};
use common::{corpus, OWN};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

const BEFORE: &str = "7c0d0abb5f44"; // v0 10 0
const RENAME: &str = "88efebb82ef2"; // v0 11 0: Config.key -> name
const GENERATED: &str = "a70e11000001";

fn corpus_versions() -> PathBuf {
    corpus().join("pingvin-share").join("versions")
}

fn athanor(args: &[&str]) -> Output {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(&argv, &NativeHost)
}

fn file_of(rev: &str) -> PathBuf {
    let hit = std::fs::read_dir(corpus_versions())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&format!("{rev}_")));
    hit.unwrap_or_else(|| panic!("no file for {rev}"))
}

/// Copies `rev` and everything it revises (the chain down to the first) into `dir`.
fn copy_chain(rev: &str, dir: &Path) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let (mut rev, mut n) = (rev.to_string(), 0);
    while !rev.is_empty() {
        let f = file_of(&rev);
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(dir.join(f.file_name().unwrap()), &text).unwrap();
        rev = text.lines().find_map(|l| l.strip_prefix("-- Revises:")).unwrap().trim().to_string();
        n += 1;
    }
    n
}

/// The schema of `db` written out as a `schema.sql`: every CREATE text, tables first.
fn dump(db: &Path) -> String {
    let conn = Connection::open(db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name NOT IN ('alembic_version', 'athanor_history') \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
        )
        .unwrap();
    let texts: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    texts.iter().map(|t| format!("{t};\n")).collect()
}

fn schema_of(db: &Path) -> Schema {
    Schema::read(&Connection::open(db).unwrap(), OWN).unwrap()
}

/// Every row of every table (the version table included), as text, in a fixed order.
fn contents(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = vec![];
    for t in tables {
        let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = st.column_count();
        let mut rows: Vec<String> = st
            .query_map([], |r| {
                let vals: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        ValueRef::Null => "NULL".to_string(),
                        ValueRef::Integer(v) => v.to_string(),
                        ValueRef::Real(v) => v.to_string(),
                        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
                        ValueRef::Blob(b) => format!("x'{}'", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
                    })
                    .collect();
                Ok(format!("{t}: {}", vals.join(" | ")))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.extend(rows);
    }
    out
}

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    versions: PathBuf,
    schema: PathBuf,
}

impl Project {
    fn s(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    /// Migrations up to v0 10 0, and the schema v0 11 0 builds declared in schema.sql.
    fn new() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let versions = root.join("versions");
        assert_eq!(copy_chain(BEFORE, &versions), 13);
        let full = root.join("full");
        assert_eq!(copy_chain(RENAME, &full), 14);
        let full_db = root.join("full.db");
        let up = athanor(&["--dir", Self::s(&full), "--db", Self::s(&full_db), "upgrade", "head"]);
        assert_eq!(up.status, 0, "{}", up.stderr);
        let schema = root.join("schema.sql");
        std::fs::write(&schema, dump(&full_db)).unwrap();
        Project { _tmp: tmp, root, versions, schema }
    }

    fn cli(&self, db: &Path, rest: &[&str]) -> Output {
        let mut args = vec!["--dir", Self::s(&self.versions), "--db", Self::s(db), "--schema", Self::s(&self.schema)];
        args.extend_from_slice(rest);
        athanor(&args)
    }

    /// A database at v0 10 0.
    fn db_before(&self, name: &str) -> PathBuf {
        let db = self.root.join(name);
        let out = self.cli(&db, &["upgrade", BEFORE]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        db
    }

    /// `revision --autogenerate` from the heads' schema (no --db): the generated file.
    fn autogenerate(&self) -> String {
        let out = athanor(&[
            "--dir",
            Self::s(&self.versions),
            "--schema",
            Self::s(&self.schema),
            "revision",
            "--autogenerate",
            "-m",
            "v0 11 0",
            "--rev-id",
            GENERATED,
        ]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        let path = self.versions.join(format!("{GENERATED}_v0_11_0.sql"));
        assert_eq!(out.stdout, format!("Generating {} ...  done\n", path.display()));
        assert_eq!(
            out.stderr,
            "INFO  [athanor] Detected add column Config.name NOT NULL without a DEFAULT (existing rows have no value for it: the migration fails if Config has rows)\n\
             INFO  [athanor] Detected drop column Config.key (its data is deleted)\n\
             INFO  [athanor] Detected column Config.category: PRIMARY KEY changed (rows that collide make the migration fail)\n\
             INFO  [athanor] Detected table Config: column order changed\n\
             INFO  [athanor] Detected table Config: constraint added: primary key ( name , category ) (rows that violate it make the migration fail)\n"
        );
        std::fs::read_to_string(path).unwrap()
    }
}

const COPY: &str = r#"INSERT INTO "athanor_new_Config" ("updatedAt", "category", "type", "value", "description", "obscured", "secret", "locked", "order") SELECT "updatedAt", "category", "type", "value", "description", "obscured", "secret", "locked", "order" FROM "Config""#;

#[test]
fn the_rename_is_a_drop_and_add_that_fails_on_rows_and_changes_nothing() {
    let p = Project::new();
    let db = p.db_before("app.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            r#"INSERT INTO "Config" ("updatedAt", "key", "type", "value", "description", "category", "order")
               VALUES (1677830000000, 'APP_URL', 'string', 'http://localhost:3000', 'On which URL Pingvin Share is available', 'general', 0),
                      (1677830000000, 'JWT_SECRET', 'string', 'secret', 'Long random string', 'internal', 0);
               INSERT INTO "User" ("id", "updatedAt", "username", "email", "password")
               VALUES ('u1', 1677830000000, 'admin', 'admin@example.com', 'hash');"#,
        )
        .unwrap();
    }
    let text = p.autogenerate();
    // The copy keeps every column both tables share; `name` is left to its (absent) default.
    assert!(text.contains(&format!("{COPY};\n")), "{text}");
    // Before it, a guard stops the migration: the new NOT NULL `name` has no value for the rows.
    let guard_line = text.lines().position(|l| l.starts_with("INSERT INTO athanor_guard")).unwrap() + 1;

    let (schema_before, rows_before) = (schema_of(&db), contents(&db));
    let out = p.cli(&db, &["upgrade", "head"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let path = p.versions.join(format!("{GENERATED}_v0_11_0.sql"));
    assert_eq!(
        out.stderr.lines().last().unwrap(),
        format!(
            "FAILED [MIGRATION_FAILED]: Migration {GENERATED} failed at {}:{guard_line}: CHECK constraint failed: Config.name is added NOT NULL without a DEFAULT: existing rows need a value (statement: INSERT INTO athanor_guard SELECT count(*) FROM \"Config\";)",
            path.display()
        )
    );
    assert!(out.stderr.starts_with(&format!("INFO  [athanor] Running upgrade {BEFORE} -> {GENERATED}, v0 11 0\n")), "{}", out.stderr);
    // Nothing moved: the schema (no athanor_new_Config left behind), every row, the version.
    assert_eq!(schema_of(&db), schema_before);
    assert_eq!(contents(&db), rows_before);
    assert!(rows_before.contains(&format!("alembic_version: '{BEFORE}'")), "{rows_before:?}");
    // The history's own seeded rows are still there too, `key` and all.
    assert!(rows_before.iter().any(|r| r.starts_with("Config: ") && r.contains("'SMTP_ENABLED'")), "{rows_before:?}");
    assert_eq!(rows_before.iter().filter(|r| r.starts_with("Config: ")).count(), 4, "{rows_before:?}");
    let current = p.cli(&db, &["current"]);
    assert_eq!(current.stdout, format!("{BEFORE}\n"));
    // Still behind the heads: `check` cannot compare it (NOT_UP_TO_DATE, exit 3).
    let check = p.cli(&db, &["check"]);
    assert_eq!((check.status, check.stderr.as_str()), (3, "FAILED [NOT_UP_TO_DATE]: Target database is not up to date.\n"));
}

#[test]
fn with_no_rows_the_generated_migration_reaches_the_declared_schema_and_back() {
    let p = Project::new();
    let db = p.db_before("empty.db");
    {
        // The history seeds Config itself (SETUP_STATUS, SMTP_ENABLED): empty it.
        let conn = Connection::open(&db).unwrap();
        assert_eq!(conn.execute(r#"DELETE FROM "Config""#, []).unwrap(), 2);
        conn.execute_batch(r#"INSERT INTO "User" ("id", "updatedAt", "username", "email", "password") VALUES ('u1', 1677830000000, 'admin', 'admin@example.com', 'hash')"#).unwrap();
    }
    let before = schema_of(&db);
    let declared = autogen::schema_of_sql("schema.sql", &std::fs::read_to_string(&p.schema).unwrap()).unwrap();
    assert_ne!(before, declared);
    p.autogenerate();

    let up = p.cli(&db, &["upgrade", "head"]);
    assert_eq!(up.status, 0, "{}", up.stderr);
    assert_eq!(up.stderr, format!("INFO  [athanor] Running upgrade {BEFORE} -> {GENERATED}, v0 11 0\n"));
    assert_eq!(schema_of(&db), declared);
    let check = p.cli(&db, &["check"]);
    assert_eq!((check.status, check.stdout.as_str()), (0, "No new upgrade operations detected.\n"), "{}", check.stderr);
    // Config had no rows to lose; User, untouched, kept its.
    let conn = Connection::open(&db).unwrap();
    let n: i64 = conn.query_row(r#"SELECT count(*) FROM "Config""#, [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    let user: String = conn.query_row(r#"SELECT "username" FROM "User" WHERE "id" = 'u1'"#, [], |r| r.get(0)).unwrap();
    assert_eq!(user, "admin");
    drop(conn);

    let down = p.cli(&db, &["downgrade", "-1"]);
    assert_eq!(down.status, 0, "{}", down.stderr);
    assert_eq!(schema_of(&db), before);
    assert_eq!(p.cli(&db, &["current"]).stdout, format!("{BEFORE}\n"));
}
