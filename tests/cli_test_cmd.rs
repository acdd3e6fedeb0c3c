//! `athanor test` through the CLI binary (and, where the CLI cannot, the library): every
//! revision's round trip on a scratch database, the first failure reported with its
//! step, statement or schema difference; the real histories of tests/fixtures/corpus
//! with their real outcomes.

mod common;

use std::path::Path;

use athanor::core::graph::RevisionMap;
use athanor::safety::round_trip::{Cycle, Phase, Problem};
use athanor::safety::{test_on, TestOptions};
use common::athanor_bin;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;

/// Runs the CLI in `cwd`; the migrations' paths in its output relative to `cwd`.
fn athanor(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = athanor_bin(cwd, args);
    let root = format!("{}/", cwd.to_str().unwrap());
    (code, out.replace(&root, ""), err.replace(&root, ""))
}

/// A migration file: `up`, and a downgrade section unless `down` is `None`.
fn write(dir: &Path, id: &str, revises: &str, up: &str, down: Option<&str>) {
    let mut s = format!("-- Revision ID: {id}\n-- Revises: {revises}\n-- Message: step {id}\n\n-- migrate:upgrade\n{up}\n");
    if let Some(d) = down {
        s.push_str(&format!("\n-- migrate:downgrade\n{d}\n"));
    }
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(dir.join("migrations").join(format!("{id}_step_{id}.sql")), s).unwrap();
}

const R1_UP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);";
const R1_DOWN: &str = "DROP TABLE users;";

/// r1 users; r2 adds a column with ADD COLUMN (its downgrade given); r3 an index.
fn history(dir: &Path, r2_down: Option<&str>) {
    write(dir, "r1", "", R1_UP, Some(R1_DOWN));
    write(dir, "r2", "r1", "ALTER TABLE users ADD COLUMN nickname TEXT;", r2_down);
    write(dir, "r3", "r2", "CREATE INDEX users_nickname ON users (nickname);", Some("DROP INDEX users_nickname;"));
}

#[test]
fn a_history_whose_downgrades_undo_their_upgrades_passes() {
    let tmp = tempfile::tempdir().unwrap();
    history(tmp.path(), Some("ALTER TABLE users DROP COLUMN nickname;"));
    let (code, out, err) = athanor(tmp.path(), &["test"]);
    assert_eq!(
        err,
        "INFO  [athanor] Testing 3 revisions on a scratch in-memory database
INFO  [athanor] Round trip  -> r1, step r1 ... ok
INFO  [athanor] Round trip r1 -> r2, step r2 ... ok
INFO  [athanor] Round trip r2 -> r3, step r3 ... ok
INFO  [athanor] Downgrade to base, upgrade to heads ... ok
"
    );
    assert_eq!((code, out.as_str()), (0, "Round trips passed: 3 revisions; downgrade to base and upgrade to heads passed.\n"));
}

#[test]
fn a_downgrade_that_leaves_a_column_behind_fails_with_the_difference() {
    let tmp = tempfile::tempdir().unwrap();
    history(tmp.path(), Some("-- forgot to drop nickname\n"));
    let (code, out, err) = athanor(tmp.path(), &["test"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "- add column users.nickname\n");
    assert_eq!(
        err,
        "INFO  [athanor] Testing 3 revisions on a scratch in-memory database
INFO  [athanor] Round trip  -> r1, step r1 ... ok
INFO  [athanor] Round trip r1 -> r2, step r2 ... FAILED at its downgrade
FAILED [ROUND_TRIP_FAILED]: Round trip failed at the downgrade of r2 (migrations/r2_step_r2.sql): it does not restore the schema; from the one before the upgrade to the one after the downgrade: add column users.nickname
"
    );
}

#[test]
fn a_downgrade_that_fails_names_its_statement_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    history(tmp.path(), Some("ALTER TABLE users DROP COLUMN nickname;\nDROP INDEX no_such_index;"));
    let (code, out, err) = athanor(tmp.path(), &["test"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    let last = err.lines().last().unwrap();
    assert_eq!(
        last,
        "FAILED [ROUND_TRIP_FAILED]: Round trip failed at the downgrade of r2 (migrations/r2_step_r2.sql): Migration r2 failed at migrations/r2_step_r2.sql:10: no such index: no_such_index (statement: DROP INDEX no_such_index;)"
    );
}

#[test]
fn branches_and_a_merge_round_trip_one_revision_at_a_time() {
    // Each revision goes down alone, the other branch's revision staying applied.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    write(p, "r1", "", "CREATE TABLE a (x);", Some("DROP TABLE a;"));
    write(p, "b2", "r1", "CREATE TABLE b (x);", Some("DROP TABLE b;"));
    write(p, "c2", "r1", "CREATE TABLE c (x);", Some("DROP TABLE c;"));
    write(p, "m3", "b2, c2", "CREATE VIEW bc AS SELECT * FROM b, c;", Some("DROP VIEW bc;"));
    let (code, out, err) = athanor(p, &["test"]);
    assert_eq!(
        err,
        "INFO  [athanor] Testing 4 revisions on a scratch in-memory database
INFO  [athanor] Round trip  -> r1, step r1 ... ok
INFO  [athanor] Round trip r1 -> c2, step c2 ... ok
INFO  [athanor] Round trip r1 -> b2, step b2 ... ok
INFO  [athanor] Round trip b2, c2 -> m3, step m3 ... ok
INFO  [athanor] Downgrade to base, upgrade to heads ... ok
"
    );
    assert_eq!((code, out.as_str()), (0, "Round trips passed: 4 revisions; downgrade to base and upgrade to heads passed.\n"));
    // c2's downgrade forgets the view's table: only the merge's round trip shows it.
    write(p, "c2", "r1", "CREATE TABLE c (x);", Some("DROP TABLE c;"));
    write(p, "m3", "b2, c2", "CREATE VIEW bc AS SELECT * FROM b, c;", Some(""));
    let (code, out, err) = athanor(p, &["test"]);
    assert_eq!((code, out.as_str()), (1, "- add view bc\n"), "{err}");
    assert!(err.ends_with("FAILED [ROUND_TRIP_FAILED]: Round trip failed at the downgrade of m3 (migrations/m3_step_m3.sql): it does not restore the schema; from the one before the upgrade to the one after the downgrade: add view bc\n"), "{err}");
}

#[test]
fn an_irreversible_revision_is_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    history(tmp.path(), None);
    let (code, out, err) = athanor(tmp.path(), &["test"]);
    assert_eq!(
        err,
        "INFO  [athanor] Testing 3 revisions on a scratch in-memory database
INFO  [athanor] Round trip  -> r1, step r1 ... ok
INFO  [athanor] Round trip r1 -> r2, step r2 ... irreversible (no downgrade section), skipped
INFO  [athanor] Round trip r2 -> r3, step r3 ... ok
INFO  [athanor] Downgrade to base, upgrade to heads ... skipped (1 irreversible revision)
"
    );
    assert_eq!((code, out.as_str()), (0, "Round trips passed: 2 revisions, 1 irreversible skipped; downgrade to base skipped.\n"));
}

/// r2 rebuilds `users` with a new NOT NULL column and copies the rows without giving
/// it a value: fine on an empty table, a failure on one with rows.
const REBUILD_WITHOUT_VALUE: &str = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, plan TEXT NOT NULL);
INSERT INTO users_new (id, email) SELECT id, email FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;";

#[test]
fn seeded_rows_show_a_migration_that_fails_only_on_data() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    write(p, "r1", "", R1_UP, Some(R1_DOWN));
    write(
        p,
        "r2",
        "r1",
        REBUILD_WITHOUT_VALUE,
        Some("CREATE TABLE users_old (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\nINSERT INTO users_old SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_old RENAME TO users;"),
    );
    let (code, _, err) = athanor(p, &["test"]);
    assert_eq!(code, 0, "without rows it passes: {err}");
    let (code, out, err) = athanor(p, &["test", "--seed"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.starts_with("INFO  [athanor] Testing 2 revisions on a scratch in-memory database, rows seeded into every table before each step\n"),
        "{err}"
    );
    assert_eq!(
        err.lines().last().unwrap(),
        "FAILED [ROUND_TRIP_FAILED]: Round trip failed at the upgrade of r2 (migrations/r2_step_r2.sql): Migration r2 failed at migrations/r2_step_r2.sql:7: NOT NULL constraint failed: users_new.plan (statement: INSERT INTO users_new (id, email) SELECT id, email FROM users;)"
    );
}

#[test]
fn seeded_rows_fit_checks_and_a_table_that_takes_none_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    write(
        p,
        "r1",
        "",
        "CREATE TABLE post (id INTEGER PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('draft', 'live')), n INT CHECK (n BETWEEN 5 AND 6));\nCREATE TABLE never (v INT NOT NULL CHECK (v <> v));",
        Some("DROP TABLE post;\nDROP TABLE never;"),
    );
    // Fails on any row of `post` whose state is not one of the CHECK's.
    write(p, "r2", "r1", "CREATE UNIQUE INDEX post_state ON post (id, state);", Some("DROP INDEX post_state;"));
    let (code, out, err) = athanor(p, &["test", "--seed"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Round trips passed: 2 revisions; downgrade to base and upgrade to heads passed.\n");
    assert!(err.contains("WARNING [athanor] --seed: table never took no rows (CHECK constraint failed: v <> v)\n"), "{err}");
    assert!(!err.contains("table post"), "{err}");
}

#[test]
fn the_database_given_is_never_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    history(p, Some("ALTER TABLE users DROP COLUMN nickname;"));
    Connection::open(p.join("app.db")).unwrap().execute_batch("CREATE TABLE mine (x); INSERT INTO mine VALUES (1);").unwrap();
    let before = std::fs::read(p.join("app.db")).unwrap();
    let (code, _, err) = athanor(p, &["--db", "app.db", "test", "--seed"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(p.join("app.db")).unwrap(), before);
    let (code, _, err) = athanor(p, &["--db", "missing.db", "test"]);
    assert_eq!(code, 0, "{err}");
    assert!(!p.join("missing.db").exists());
    let files: Vec<_> = std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
}

#[test]
fn bad_input_gets_coded_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    history(p, Some(""));
    let (code, _, err) = athanor(p, &["test", "extra"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: test takes no positional arguments (got 'extra')\n"));
    let (code, _, err) = athanor(p, &["test", "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("FAILED [USAGE]: test does not take --format (its options: --seed)"), "{err}");
    let (code, _, err) = athanor(p, &["lint", "--seed"]);
    assert_eq!(code, 2, "{err}");
    std::fs::write(p.join("migrations/r9_bad.sql"), "-- Revision ID: r9\n-- Revises: nope\n\n-- migrate:upgrade\n").unwrap();
    let (code, _, err) = athanor(p, &["test"]);
    assert_eq!((code, err.as_str()), (1, "FAILED [UNKNOWN_PARENT]: Revision nope referenced from r9 is not present\n"));
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir(empty.path().join("migrations")).unwrap();
    let (code, out, _) = athanor(empty.path(), &["test"]);
    assert_eq!((code, out.as_str()), (0, "No revisions to test.\n"));
}

// ----------------------------------------------------------------- the real histories

fn corpus_test(name: &str, extra: &[&str]) -> (i32, String, String) {
    let versions = common::corpus().join(name).join("versions");
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["--dir", versions.to_str().unwrap(), "test"];
    args.extend(extra);
    let (code, out, err) = athanor_bin(tmp.path(), &args);
    let root = format!("{}/", common::corpus().to_str().unwrap());
    (code, out.replace(&root, ""), err.replace(&root, ""))
}

#[test]
fn real_histories_without_downgrades_pass_with_every_revision_skipped() {
    // SOURCES.md: these projects ship no down migrations: every revision is
    // irreversible. Each upgrade still runs, with rows in every table under --seed.
    for (name, n) in [("atuin", 12), ("atuin-server-sqlite", 7), ("flipt", 16), ("memos", 62), ("pingvin-share", 24)] {
        let (code, out, err) = corpus_test(name, &[]);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out, format!("Round trips passed: 0 revisions, {n} irreversible skipped; downgrade to base skipped.\n"), "{name}");
        assert_eq!(err.matches("irreversible (no downgrade section), skipped\n").count(), n, "{name}");
        if name != "pingvin-share" {
            let (code, out2, err) = corpus_test(name, &["--seed"]);
            assert_eq!((code, out2), (0, out), "{name} --seed: {err}");
        }
    }
}

#[test]
fn pingvin_share_with_seeded_rows_fails_where_prisma_warned_it_would() {
    // `category attribute config` rebuilds Config with `category` nullable, sets it for
    // the keys it knows, then rebuilds it NOT NULL: any other row stops the copy. Its
    // own header says so ("This is not possible if the table is not empty").
    let (code, out, err) = corpus_test("pingvin-share", &["--seed"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("INFO  [athanor] Round trip 6c33495dc873 -> affdb4a19adc, category attribute config ... FAILED at its upgrade\n"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(
            "FAILED [ROUND_TRIP_FAILED]: Round trip failed at the upgrade of affdb4a19adc (pingvin-share/versions/affdb4a19adc_category_attribute_config.sql): Migration affdb4a19adc failed at pingvin-share/versions/affdb4a19adc_category_attribute_config.sql:58: NOT NULL constraint failed: new_Config.category (statement: INSERT INTO \"new_Config\""
        ),
        "{last}"
    );
}

#[test]
fn atuin_scripts_fails_at_its_mysql_downgrade() {
    // SOURCES.md: the down of `unique names` is MySQL syntax.
    let (code, out, err) = corpus_test("atuin-scripts", &[]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "INFO  [athanor] Testing 2 revisions on a scratch in-memory database
INFO  [athanor] Round trip  -> 664d049246e9, create scripts ... ok
INFO  [athanor] Round trip 664d049246e9 -> edd312028daa, unique names ... FAILED at its downgrade
FAILED [ROUND_TRIP_FAILED]: Round trip failed at the downgrade of edd312028daa (atuin-scripts/versions/edd312028daa_unique_names.sql): Migration edd312028daa failed at atuin-scripts/versions/edd312028daa_unique_names.sql:12: near \"index\": syntax error (statement: alter table scripts drop index name_uniq_idx;)
"
    );
}

#[test]
fn vaultwarden_fails_at_its_first_empty_downgrade() {
    // SOURCES.md: 32 of 56 downs are empty. The first that matters is `create users
    // ciphers`, a rebuild of ciphers (folder_uuid moved to folders_ciphers) whose down
    // file is empty: everything it did stays.
    let (code, out, err) = corpus_test("vaultwarden", &[]);
    assert_eq!(code, 1, "{err}");
    let changes = [
        "table attachments: foreign key added: (cipher_uuid) -> oldciphers(uuid)",
        "table attachments: foreign key dropped: (cipher_uuid) -> ciphers(uuid)",
        "drop column ciphers.folder_uuid",
        "column ciphers.user_uuid: NOT NULL dropped",
        "table ciphers: foreign key added: (organization_uuid) -> organizations(uuid)",
        "table ciphers: foreign key dropped: (folder_uuid) -> folders(uuid)",
        "add table folders_ciphers",
        "add column users_collections.read_only",
    ];
    assert_eq!(out, changes.iter().map(|c| format!("- {c}\n")).collect::<String>());
    assert_eq!(
        err.lines().last().unwrap(),
        format!(
            "FAILED [ROUND_TRIP_FAILED]: Round trip failed at the downgrade of 717dc25444b9 (vaultwarden/versions/717dc25444b9_create_users_ciphers.sql): it does not restore the schema; from the one before the upgrade to the one after the downgrade: {}",
            changes.join("; ")
        )
    );
    assert_eq!(err.matches("... ok\n").count(), 2, "{err}");
}

#[test]
fn authelia_fails_without_its_app_functions() {
    // SOURCES.md: V0002 calls BIN2B64, which authelia registers on its connections.
    let (code, _, err) = corpus_test("authelia", &[]);
    assert_eq!(code, 1);
    assert!(
        err.lines().last().unwrap().starts_with(
            "FAILED [ROUND_TRIP_FAILED]: Round trip failed at the upgrade of ced8ed7afb63 (authelia/versions/ced8ed7afb63_webauthn.sql): Migration ced8ed7afb63 failed at authelia/versions/ced8ed7afb63_webauthn.sql:50: no such function: BIN2B64"
        ),
        "{err}"
    );
}

/// A scratch connection with authelia's two SQL functions (values passed through: the
/// schema is what is compared).
fn with_app_functions() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    for name in ["BIN2B64", "B642BIN"] {
        conn.create_scalar_function(name, 1, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| ctx.get::<Value>(0)).unwrap();
    }
    conn
}

#[test]
fn authelia_with_its_app_functions_fails_at_v0007s_downgrade_through_the_library() {
    // With BIN2B64 / B642BIN on the connection, as authelia has them, the walk gets
    // past V0002. V0007 (ConsistencyFixes) renames a misspelt constraint
    // (`..._subjct_fkey` to `..._subject_fkey`) and moves user_preferences' UNIQUE
    // from the column to an index; its downgrade rebuilds both tables, but with the
    // constraint under the corrected name and UNIQUE (username) as a table constraint.
    // SQLite enforces the same, yet the schema is not the one before: autogenerate's
    // model (and so `check`) tells them apart, and so does `test`.
    let map: RevisionMap =
        athanor::cli::commands::load_map(&athanor::cli::NativeHost, common::corpus().join("authelia/versions").to_str().unwrap()).unwrap();
    let report = test_on(&with_app_functions(), &map, &TestOptions::default()).unwrap();
    let f = report.failure.clone().expect("a failure");
    assert_eq!(f.phase, Phase::Downgrade);
    assert_eq!(f.revision.as_ref().map(|r| r.0.as_str()), Some("43c62390642b"), "{f:?}");
    let Problem::SchemaDiffers { changes } = &f.problem else { panic!("{f:?}") };
    assert_eq!(
        changes,
        &[
            "table oauth2_consent_preconfiguration: constraint added: constraint oauth2_consent_preconfiguration_subject_fkey foreign key ( subject ) references user_opaque_identifier ( identifier ) on update restrict on delete restrict",
            "table oauth2_consent_preconfiguration: constraint dropped: constraint oauth2_consent_preconfiguration_subjct_fkey foreign key ( subject ) references user_opaque_identifier ( identifier ) on update restrict on delete restrict",
            "column user_preferences.username: definition changed (COLLATE, CHECK, UNIQUE or generated expression)",
            "table user_preferences: constraint added: unique ( username )",
        ]
    );
    assert_eq!(report.tested.len(), 6, "V0001..V0006 passed");
    assert!(report.tested.iter().all(|t| t.reversible));
    assert_eq!(report.cycle, Cycle::NotPassed);
}
