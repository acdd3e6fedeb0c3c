//! `athanor lint` through the CLI binary, on tests/fixtures/lint: one migration per
//! class (and an additive one with nothing to report, and one whose findings the file
//! accepts with `-- athanor:lint-ignore`), each finding with its file and line; the
//! JSON format; the default range from `--db` (never written); coded errors.

mod common;

use std::path::{Path, PathBuf};

use common::athanor_bin;
use rusqlite::Connection;
use serde_json::Value;

/// A copy of tests/fixtures/lint in a temp directory (some tests edit it).
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint/migrations");
    std::fs::create_dir(root.join("migrations")).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), root.join("migrations").join(e.file_name())).unwrap();
    }
    (tmp, root)
}

/// Runs the CLI in `cwd`, paths in its output relative to `cwd`.
fn athanor(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = athanor_bin(cwd, args);
    let root = format!("{}/", cwd.to_str().unwrap());
    (code, out.replace(&root, ""), err.replace(&root, ""))
}

const DESTRUCTIVE: &str = "migrations/c3_destructive.sql:8: destructive: table audit dropped and created again (its rows are deleted)\n";
const REBUILD: &str = "migrations/d4_rebuild.sql:9: destructive: table users rebuilt without column legacy (its data is deleted)
migrations/d4_rebuild.sql:9: backward-incompatible: column users.legacy dropped (clients on the old schema still use it)
";
const DATA_DEPENDENT: &str = "migrations/e5_data_dependent.sql:6: data-dependent: unique index users_email on users(email) added (rows with duplicate keys make the migration fail)
migrations/e5_data_dependent.sql:16: data-dependent: column posts.title: NOT NULL added (rows where it is NULL make the migration fail)
migrations/e5_data_dependent.sql:16: data-dependent: column posts.title: CHECK (length(title) > 0) added (rows that break it make the migration fail)
migrations/e5_data_dependent.sql:16: data-dependent: table posts: foreign key added: (user_id) -> users(id) (rows without a parent break it)
";
const BACKWARD: &str = "migrations/f6_backward_incompatible.sql:6: backward-incompatible: column posts.title renamed to headline (clients on the old schema still use title)
migrations/f6_backward_incompatible.sql:7: backward-incompatible: table tags renamed to labels (clients on the old schema still use tags)
";
const NON_TRANSACTIONAL: &str = "migrations/g7_non_transactional.sql:5: non-transactional: the upgrade runs outside a transaction (transaction:false): a failure part-way leaves the statements before it applied\n";
const ACCEPTED: &str = "INFO  [athanor] Accepted by lint-ignore: migrations/h8_accepted.sql:8: destructive: column posts.body dropped (its data is deleted)
INFO  [athanor] Accepted by lint-ignore: migrations/h8_accepted.sql:8: backward-incompatible: column posts.body dropped (clients on the old schema still use it)
";

fn findings_failure(count: usize, revisions: usize) -> String {
    format!("FAILED [LINT_FINDINGS]: {count} lint finding(s) in {revisions} revision(s) (accept one on purpose with '-- athanor:lint-ignore CLASS' in its migration)\n")
}

#[test]
fn the_whole_fixture_history_lists_each_class_with_file_and_line() {
    let (_tmp, p) = fixture();
    let (code, out, err) = athanor(&p, &["lint", "base:heads"]);
    assert_eq!(out, [DESTRUCTIVE, REBUILD, DATA_DEPENDENT, BACKWARD, NON_TRANSACTIONAL].concat());
    let linting: String = [
        " -> a1, base",
        "a1 -> b2, additive",
        "b2 -> c3, destructive",
        "c3 -> d4, rebuild without a column",
        "d4 -> e5, data dependent",
        "e5 -> f6, renames",
        "f6 -> g7, outside a transaction",
        "g7 -> h8, drop body on purpose",
    ]
    .iter()
    .map(|l| format!("INFO  [athanor] Linting {l}\n"))
    .collect();
    assert_eq!(err, format!("{linting}{ACCEPTED}{}", findings_failure(10, 5)));
    assert_eq!(code, 1);
}

#[test]
fn one_migration_per_class_and_nothing_for_an_additive_one() {
    let (_tmp, p) = fixture();
    for (rev, expected) in [("c3", DESTRUCTIVE), ("d4", REBUILD), ("e5", DATA_DEPENDENT), ("f6", BACKWARD), ("g7", NON_TRANSACTIONAL)] {
        let (code, out, err) = athanor(&p, &["lint", rev]);
        assert_eq!((code, out.as_str()), (1, expected), "{rev}: {err}");
        assert!(err.ends_with(&findings_failure(expected.lines().count(), 1)), "{rev}: {err}");
    }
    for rev in ["a1", "b2"] {
        let (code, out, err) = athanor(&p, &["lint", rev]);
        assert_eq!((code, out.as_str()), (0, "No lint findings in 1 revision.\n"), "{rev}: {err}");
    }
    // A range: from b2 (its parent applied unlinted) to d4.
    let (code, out, _) = athanor(&p, &["lint", "b2:d4"]);
    assert_eq!((code, out), (1, [DESTRUCTIVE, REBUILD].concat()));
}

#[test]
fn lint_ignore_accepts_its_classes_for_the_whole_file_and_only_those() {
    let (_tmp, p) = fixture();
    let (code, out, err) = athanor(&p, &["lint", "h8"]);
    assert_eq!((code, out.as_str()), (0, "No lint findings in 1 revision.\n"));
    assert_eq!(err, format!("INFO  [athanor] Linting g7 -> h8, drop body on purpose\n{ACCEPTED}"));
    // Without the comment, the same two findings fail the lint.
    let file = p.join("migrations/h8_accepted.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("-- athanor:lint-ignore destructive, backward-incompatible\n", "")).unwrap();
    let (code, out, _) = athanor(&p, &["lint", "h8"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "migrations/h8_accepted.sql:7: destructive: column posts.body dropped (its data is deleted)
migrations/h8_accepted.sql:7: backward-incompatible: column posts.body dropped (clients on the old schema still use it)
"
    );
    // Accepting one class leaves the other; the comment may stand in the downgrade.
    std::fs::write(
        &file,
        text.replace("-- athanor:lint-ignore destructive, backward-incompatible\n", "")
            .replace("ADD COLUMN body TEXT;", "ADD COLUMN body TEXT;\n-- athanor:lint-ignore destructive"),
    )
    .unwrap();
    let (code, out, _) = athanor(&p, &["lint", "h8"]);
    assert_eq!(
        (code, out.as_str()),
        (1, "migrations/h8_accepted.sql:7: backward-incompatible: column posts.body dropped (clients on the old schema still use it)\n")
    );
}

#[test]
fn json_output_parses_and_holds_every_finding() {
    let (_tmp, p) = fixture();
    let (code, out, err) = athanor(&p, &["lint", "base:heads", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.ends_with(&findings_failure(10, 5)), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["revisions"], serde_json::json!(["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]));
    let findings = v["findings"].as_array().unwrap();
    let classes: Vec<&str> = findings.iter().map(|f| f["class"].as_str().unwrap()).collect();
    assert_eq!(
        classes,
        [
            "destructive",
            "destructive",
            "backward-incompatible",
            "data-dependent",
            "data-dependent",
            "data-dependent",
            "data-dependent",
            "backward-incompatible",
            "backward-incompatible",
            "non-transactional"
        ]
    );
    assert_eq!(
        findings[0],
        serde_json::json!({"class": "destructive", "revision": "c3", "file": "migrations/c3_destructive.sql", "line": 8, "message": "table audit dropped and created again (its rows are deleted)"})
    );
    let text: String = findings
        .iter()
        .map(|f| format!("{}:{}: {}: {}\n", f["file"].as_str().unwrap(), f["line"], f["class"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(text, [DESTRUCTIVE, REBUILD, DATA_DEPENDENT, BACKWARD, NON_TRANSACTIONAL].concat());
    assert_eq!(v["ignored"].as_array().unwrap().len(), 2);
    assert_eq!(v["ignored"][0]["revision"], "h8");
    // Nothing to report: still a document, and exit 0.
    let (code, out, _) = athanor(&p, &["lint", "b2", "--format", "json"]);
    assert_eq!((code, out.as_str()), (0, "{\"revisions\":[\"b2\"],\"findings\":[],\"ignored\":[]}\n"));
    let (code, out, _) = athanor(&p, &["lint", "b2", "--format", "text"]);
    assert_eq!((code, out.as_str()), (0, "No lint findings in 1 revision.\n"));
}

#[test]
fn by_default_what_the_database_has_not_applied_and_the_database_is_only_read() {
    let (_tmp, p) = fixture();
    // No --db: the head.
    let (code, out, err) = athanor(&p, &["lint"]);
    assert_eq!((code, out.as_str()), (0, "No lint findings in 1 revision.\n"));
    assert_eq!(err, format!("INFO  [athanor] Linting g7 -> h8, drop body on purpose\n{ACCEPTED}"));
    // A --db that does not exist: the head too, and no file is made.
    let (code, _, _) = athanor(&p, &["--db", "app.db", "lint"]);
    assert_eq!(code, 0);
    assert!(!p.join("app.db").exists());
    // A database at f6: g7 and h8.
    let (code, _, err) = athanor(&p, &["--db", "app.db", "upgrade", "f6"]);
    assert_eq!(code, 0, "{err}");
    Connection::open(p.join("app.db")).unwrap().execute_batch("INSERT INTO posts (headline) VALUES ('kept')").unwrap();
    let before = std::fs::read(p.join("app.db")).unwrap();
    let (code, out, err) = athanor(&p, &["--db", "app.db", "lint"]);
    assert_eq!((code, out.as_str()), (1, NON_TRANSACTIONAL));
    assert!(
        err.starts_with("INFO  [athanor] Linting f6 -> g7, outside a transaction\nINFO  [athanor] Linting g7 -> h8, drop body on purpose\n"),
        "{err}"
    );
    // current: the database's own revision; current:heads from there.
    let (_, out, _) = athanor(&p, &["--db", "app.db", "lint", "current"]);
    assert_eq!(out, BACKWARD);
    let (_, out, _) = athanor(&p, &["--db", "app.db", "lint", "current:heads"]);
    assert_eq!(out, [BACKWARD, NON_TRANSACTIONAL].concat());
    assert_eq!(std::fs::read(p.join("app.db")).unwrap(), before, "lint wrote to the database");
    // At the heads: nothing to lint.
    let (code, _, _) = athanor(&p, &["--db", "app.db", "upgrade", "heads"]);
    assert_eq!(code, 0);
    let (code, out, _) = athanor(&p, &["--db", "app.db", "lint"]);
    assert_eq!((code, out.as_str()), (0, "No revisions to lint.\n"));
}

#[test]
fn bad_input_gets_coded_errors() {
    let (_tmp, p) = fixture();
    let fails = |args: &[&str], status: i32, line: &str| {
        let (code, out, err) = athanor(&p, args);
        assert_eq!((code, out.as_str(), err.as_str()), (status, "", line), "{args:?}");
    };
    fails(&["lint", "--format", "xml"], 2, "FAILED [USAGE]: unknown --format 'xml' (text or json)\n");
    fails(&["lint", "a:b:c"], 2, "FAILED [USAGE]: lint RANGE 'a:b:c' is not START:END (a:b, a:, :b) or one revision\n");
    fails(&["lint", "a1", "b2"], 2, "FAILED [USAGE]: lint takes one RANGE (got 'a1 b2')\n");
    fails(&["lint", "zz:heads"], 1, "FAILED [UNKNOWN_REVISION]: Can't locate revision identified by 'zz': No such revision or branch 'zz'; please ensure at least four characters are present for partial revision identifier matches\n");
    fails(&["lint", "zz"], 1, "FAILED [UNKNOWN_REVISION]: Can't locate revision identified by 'zz': No such revision or branch 'zz'; please ensure at least four characters are present for partial revision identifier matches\n");
    fails(
        &["lint", "h8:a1"],
        1,
        "FAILED [INVALID_TARGET]: Requested range h8:a1 does not refer to ancestor/descendant revisions along the same branch\n",
    );
    // A database these migrations do not know.
    Connection::open(p.join("other.db"))
        .unwrap()
        .execute_batch("CREATE TABLE alembic_version (version_num TEXT); INSERT INTO alembic_version VALUES ('ffff');")
        .unwrap();
    let (code, _, err) = athanor(&p, &["--db", "other.db", "lint"]);
    assert_eq!((code, err.as_str()), (1, "FAILED [DATABASE_AHEAD]: Can't locate revision identified by 'ffff' (the database is at a revision these migrations do not contain: it is ahead of this code, or belongs to other migrations)\n"));
    // A class lint does not know, and a comment where it would do nothing.
    let file = p.join("migrations/h8_accepted.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("destructive, backward-incompatible", "destructive, backwards")).unwrap();
    fails(&["lint", "h8"], 1, "FAILED [PARSE_ERROR]: migrations/h8_accepted.sql:6: unknown lint class 'backwards' (classes: destructive, data-dependent, backward-incompatible, non-transactional)\n");
    std::fs::write(
        &file,
        text.replace("-- Message: drop body on purpose\n", "-- Message: drop body on purpose\n-- athanor:lint-ignore destructive\n"),
    )
    .unwrap();
    fails(&["lint", "h8"], 1, "FAILED [PARSE_ERROR]: migrations/h8_accepted.sql:4: '-- athanor:lint-ignore' in the header has no effect: put it in the upgrade or downgrade section\n");
    // A migration that fails on the scratch database names its statement (after the
    // progress line of the migration being linted, as upgrade's).
    std::fs::write(&file, text.replace("DROP COLUMN body", "DROP COLUMN nope")).unwrap();
    fails(&["lint", "h8"], 1, "INFO  [athanor] Linting g7 -> h8, drop body on purpose\nFAILED [MIGRATION_FAILED]: Migration h8 failed at migrations/h8_accepted.sql:8: no such column: \"nope\" (statement: ALTER TABLE posts DROP COLUMN nope;)\n");
}

/// `lint base:heads` on a real history: stdout, with the corpus path left out.
fn corpus_lint(name: &str) -> (i32, String) {
    let versions = common::corpus().join(name).join("versions");
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, _) = athanor_bin(tmp.path(), &["--dir", versions.to_str().unwrap(), "lint", "base:heads"]);
    (code, out.replace(&format!("{}/", versions.to_str().unwrap()), ""))
}

#[test]
fn real_histories_get_their_real_findings() {
    // atuin drops its events table; atuin-server-sqlite drops email verification.
    assert_eq!(
        corpus_lint("atuin"),
        (
            1,
            "17187098098a_drop_events.sql:8: destructive: table events dropped (its rows are deleted)
17187098098a_drop_events.sql:8: backward-incompatible: table events dropped (clients on the old schema still use it)
"
            .into()
        )
    );
    assert_eq!(
        corpus_lint("atuin-server-sqlite").1,
        "c0b780ead83b_remove_email_verification.sql:7: destructive: table user_verification_token dropped (its rows are deleted)
c0b780ead83b_remove_email_verification.sql:7: backward-incompatible: table user_verification_token dropped (clients on the old schema still use it)
c0b780ead83b_remove_email_verification.sql:8: destructive: column users.verified_at dropped (its data is deleted)
c0b780ead83b_remove_email_verification.sql:8: backward-incompatible: column users.verified_at dropped (clients on the old schema still use it)
"
    );
    // SOURCES.md: pingvin-share's v0_5_1 "simply drops RefreshToken and recreates it, so
    // its rows are lost"; vaultwarden renames columns that are keywords.
    let (code, pingvin) = corpus_lint("pingvin-share");
    assert_eq!(code, 1);
    assert!(
        pingvin.contains("02cfcba0229e_v0_5_1.sql:17: destructive: table RefreshToken dropped and created again (its rows are deleted)\n"),
        "{pingvin}"
    );
    assert!(!pingvin.contains("RefreshToken.id added NOT NULL"), "an emptied table has no rows to fail on: {pingvin}");
    let (_, vaultwarden) = corpus_lint("vaultwarden");
    assert!(vaultwarden.contains("3c724b87d0ff_rename_key_and_type_columns.sql:7: backward-incompatible: column attachments.key renamed to akey (clients on the old schema still use key)\n"));
    assert_eq!(vaultwarden.lines().filter(|l| l.contains(": backward-incompatible: ") && l.contains(" renamed to ")).count(), 8, "{vaultwarden}");
    // authelia needs its app's SQL functions (tests/cli_test_cmd.rs has them).
    assert_eq!(corpus_lint("authelia"), (1, String::new()));
}
