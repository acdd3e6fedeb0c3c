//! `init`, `revision` and `merge` through the CLI binary, in a temporary project.

mod common;

use common::athanor_bin as athanor;
use std::path::Path;

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn header(dir: &Path, name: &str, key: &str) -> String {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    text.lines().find_map(|l| l.strip_prefix(&format!("-- {key}:"))).unwrap_or("").trim().to_string()
}

#[test]
fn init_then_revisions_chain_on_the_head() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let (code, out, _) = athanor(p, &["init"]);
    assert_eq!(code, 0);
    assert_eq!(out, "Creating directory migrations ...  done\nGenerating athanor.ini ...  done\nPlease edit athanor.ini to set the database (db = app.db), or pass --db.\n");
    assert!(p.join("migrations").is_dir());
    // A second init refuses a directory that is not empty only; the ini is kept.
    std::fs::write(p.join("migrations/keep.txt"), "x").unwrap();
    let (code, _, err) = athanor(p, &["init"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: Directory migrations already exists and is not empty\n"));
    std::fs::remove_file(p.join("migrations/keep.txt")).unwrap();

    let (code, out, _) = athanor(p, &["revision", "-m", "Create users!", "--rev-id", "aaaa00000001"]);
    assert_eq!((code, out.as_str()), (0, "Generating migrations/aaaa00000001_create_users.sql ...  done\n"));
    let (code, out, _) = athanor(p, &["revision", "-m", "add email"]);
    assert_eq!(code, 0);
    let name = out.trim().strip_prefix("Generating migrations/").unwrap().strip_suffix(" ...  done").unwrap().to_string();
    assert!(name.ends_with("_add_email.sql"), "{name}");
    let id = name.split('_').next().unwrap();
    assert_eq!(id.len(), 12);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let m = p.join("migrations");
    assert_eq!(header(&m, &name, "Revises"), "aaaa00000001");
    assert_eq!(header(&m, &name, "Message"), "add email");
    assert!(header(&m, &name, "Create Date").starts_with("20"));
    // The new files are real migrations: they apply (empty sections are no-ops).
    let (code, _, err) = athanor(p, &["--db", "app.db", "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = athanor(p, &["--db", "app.db", "current"]);
    assert_eq!(out, format!("{id} (head)\n"));
}

#[test]
fn several_heads_need_head_or_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    athanor(p, &["revision", "-m", "one", "--rev-id", "aaaa00000001"]);
    let (code, _, err) = athanor(p, &["revision", "-m", "billing", "--head", "base", "--branch-label", "billing", "--rev-id", "bbbb00000001"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(header(&p.join("migrations"), "bbbb00000001_billing.sql", "Branch Labels"), "billing");
    let (code, _, err) = athanor(p, &["revision", "-m", "two"]);
    assert_eq!(code, 1);
    assert_eq!(err, "FAILED [MULTIPLE_HEADS]: Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge.\n");
    // --head picks one; a label works as a head.
    let (code, _, _) = athanor(p, &["revision", "-m", "invoices", "--head", "billing@head", "--rev-id", "bbbb00000002"]);
    assert_eq!(code, 0);
    assert_eq!(header(&p.join("migrations"), "bbbb00000002_invoices.sql", "Revises"), "bbbb00000001");
    // A non-head needs --splice.
    let (code, _, err) = athanor(p, &["revision", "-m", "side", "--head", "bbbb00000001"]);
    assert_eq!(
        (code, err.as_str()),
        (2, "FAILED [USAGE]: Revision bbbb00000001 is not a head revision; please specify --splice to create a new branch from this revision\n")
    );
    let (code, _, _) = athanor(p, &["merge", "-m", "merge heads", "heads", "--rev-id", "cccc00000001"]);
    assert_eq!(code, 0);
    assert_eq!(header(&p.join("migrations"), "cccc00000001_merge_heads.sql", "Revises"), "aaaa00000001, bbbb00000002");
    let (_, out, _) = athanor(p, &["heads"]);
    assert_eq!(out, "cccc00000001 (billing) (head)\n");
    // An existing id is refused and nothing is written.
    let before = files(&p.join("migrations"));
    let (code, _, err) = athanor(p, &["revision", "-m", "again", "--rev-id", "cccc00000001"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("FAILED [DUPLICATE_REVISION]: Revision cccc00000001 is present more than once"), "{err}");
    assert_eq!(files(&p.join("migrations")), before);
}

#[test]
fn athanor_ini_supplies_defaults_and_flags_win() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init", "db/migrations"]);
    let ini = std::fs::read_to_string(p.join("athanor.ini")).unwrap();
    assert!(ini.contains("dir = db/migrations"));
    std::fs::write(p.join("athanor.ini"), ini.replace("# db = app.db", "db = from_ini.db")).unwrap();
    athanor(p, &["revision", "-m", "one", "--rev-id", "aaaa00000001"]);
    assert!(p.join("db/migrations/aaaa00000001_one.sql").exists());
    assert_eq!(athanor(p, &["upgrade", "head"]).0, 0);
    assert!(p.join("from_ini.db").exists());
    assert_eq!(athanor(p, &["--db", "flag.db", "upgrade", "head"]).0, 0);
    assert!(p.join("flag.db").exists());
    std::fs::write(p.join("athanor.ini"), "[athanor]\ndatabase = x\n").unwrap();
    let (code, _, err) = athanor(p, &["heads"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "FAILED [PARSE_ERROR]: athanor.ini:2: unknown setting 'database' (known: dir, db, version_table, schema, transaction_per_migration)\n")
    );
}

#[test]
fn every_command_has_its_own_help() {
    let tmp = tempfile::tempdir().unwrap();
    for cmd in ["init", "revision", "merge", "upgrade", "downgrade", "current", "history", "heads", "branches", "show", "stamp"] {
        let (code, out, err) = athanor(tmp.path(), &[cmd, "--help"]);
        assert_eq!((code, err.as_str()), (0, ""), "{cmd}");
        assert!(out.starts_with(&format!("usage: athanor {cmd}")), "{cmd}: {out}");
    }
    // Help touches nothing: no migrations directory is needed and none is created.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn bundle_writes_an_es_module_of_the_migrations() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    athanor(p, &["revision", "-m", "create users", "--rev-id", "aaaa00000001"]);
    std::fs::write(p.join("migrations/aaaa00000001_create_users.sql"), "-- Revision ID: aaaa00000001\n-- Revises:\n-- Message: create \"users\"\n\n-- migrate:upgrade\nCREATE TABLE users (name TEXT DEFAULT 'a\\b');\n").unwrap();
    let (code, out, err) = athanor(p, &["bundle"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("// Generated by `athanor bundle` from \"migrations\": 1 revisions."), "{out}");
    assert!(out.contains("const migrations = {\n  \"aaaa00000001_create_users.sql\": \"-- Revision ID: aaaa00000001\\n-- Revises:\\n-- Message: create \\\"users\\\"\\n\\n-- migrate:upgrade\\nCREATE TABLE users (name TEXT DEFAULT 'a\\\\b');\\n\",\n};"), "{out}");
    assert!(out.contains("export const checksums = {\n  \"aaaa00000001\": \""), "{out}");
    assert!(out.ends_with("export const heads = [\"aaaa00000001\"];\nObject.defineProperty(migrations, Symbol.for(\"athanor.heads\"), { value: heads });\nexport default migrations;\n"), "{out}");
    let (code, out, _) = athanor(p, &["bundle", "-o", "migrations.js"]);
    assert_eq!((code, out.as_str()), (0, "Generating migrations.js ...  done\n"));
    assert!(std::fs::read_to_string(p.join("migrations.js")).unwrap().contains("export default migrations;"));
    // Into a directory that does not exist yet (a fresh app's src/): it is created.
    let (code, out, err) = athanor(p, &["bundle", "-o", "src/gen/migrations.js"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "Generating src/gen/migrations.js ...  done\n", ""));
    assert!(std::fs::read_to_string(p.join("src/gen/migrations.js")).unwrap().contains("export default migrations;"));
}

#[test]
fn create_date_is_utc() {
    // One rule for both CLIs (the npm CLI's is tested in tests/js/cli.test.mjs): UTC,
    // whatever the machine's time zone.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    let utc_hour = || {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        athanor::cli::host::format_timestamp(secs * 1_000_000)[..13].to_string()
    };
    let before = utc_hour();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_athanor"))
        .current_dir(p)
        .env("TZ", "Pacific/Kiritimati") // UTC+14: never the same hour as UTC
        .args(["revision", "-m", "x", "--rev-id", "aaaa00000001"])
        .output()
        .unwrap();
    let after = utc_hour();
    assert!(out.status.success());
    let date = header(&p.join("migrations"), "aaaa00000001_x.sql", "Create Date");
    assert!(date[..13] == before || date[..13] == after, "{date} vs UTC {after}");
}

#[test]
fn a_branch_label_alembic_would_refuse_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    let (code, _, err) = athanor(p, &["revision", "-m", "x", "--branch-label", "a@b"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: Character(s) '@' not allowed in branch label 'a@b'\n"));
    assert_eq!(std::fs::read_dir(p.join("migrations")).unwrap().count(), 0);
    // The files it writes load again.
    assert_eq!(athanor(p, &["revision", "-m", "x", "--branch-label", "billing"]).0, 0);
    assert_eq!(athanor(p, &["heads"]).0, 0);
}

#[test]
fn a_revision_id_outside_the_safe_set_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("a/b");
    std::fs::create_dir_all(&root).unwrap();
    let p = root.as_path();
    athanor(p, &["init"]);
    for (id, msg) in [
        ("../../x1", "revision identifier '../../x1' may hold only ASCII letters, digits and '_'"),
        ("..", "revision identifier '..' may hold only ASCII letters, digits and '_'"),
        (".", "revision identifier '.' may hold only ASCII letters, digits and '_'"),
        ("x/y", "revision identifier 'x/y' may hold only ASCII letters, digits and '_'"),
        ("a\u{1b}[2Jb", "revision identifier 'a\\u{1b}[2Jb' may hold only ASCII letters, digits and '_'"),
        ("a\nb", "revision identifier 'a\\nb' may hold only ASCII letters, digits and '_'"),
    ] {
        let (code, out, err) = athanor(p, &["revision", "-m", "x", "--rev-id", id]);
        assert_eq!((code, out.as_str()), (2, ""), "{id:?}");
        assert!(err.starts_with("FAILED [USAGE]: ") && err.contains(msg) && err.lines().count() == 1, "{id:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(p.join("migrations")).unwrap().count(), 0);
    // Nothing landed outside the migrations directory either.
    assert_eq!(files(tmp.path()), vec!["a"]);
    assert_eq!(files(&tmp.path().join("a")), vec!["b"]);
}

#[test]
fn a_message_with_line_breaks_cannot_add_a_header() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    assert_eq!(athanor(p, &["revision", "-m", "base", "--rev-id", "base0"]).0, 0);
    assert_eq!(athanor(p, &["revision", "-m", "first", "--rev-id", "aaaa0001"]).0, 0);
    let (code, _, err) = athanor(p, &["revision", "-m", "x\n-- Revises: base0\r\n-- migrate:upgrade\nDROP TABLE t;", "--rev-id", "bbbb0002"]);
    assert_eq!(code, 0, "{err}");
    let name = files(&p.join("migrations")).into_iter().find(|f| f.starts_with("bbbb0002")).unwrap();
    assert_eq!(header(&p.join("migrations"), &name, "Message"), "x -- Revises: base0  -- migrate:upgrade DROP TABLE t;");
    assert_eq!(header(&p.join("migrations"), &name, "Revises"), "aaaa0001");
    // Still one head, and every command still reads the directory.
    let (code, out, err) = athanor(p, &["heads"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "bbbb0002 (head)\n", ""));
}

/// A merge that revises a revision and its own descendant (`r2` revises `r1`, `m`
/// revises both) used to pass `heads` and `history` and break the version table on a
/// later command. Every command now refuses the map with a coded error that names the
/// merge, its file and both revisions, touching nothing; `merge` cannot write one.
#[test]
fn a_merge_of_a_revision_and_its_descendant_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    athanor(p, &["init"]);
    athanor(p, &["revision", "-m", "one", "--rev-id", "aaaa00000001"]);
    athanor(p, &["revision", "-m", "two", "--rev-id", "aaaa00000002"]);
    let m = p.join("migrations");
    std::fs::write(
        m.join("cccc00000001_bad_merge.sql"),
        "-- Revision ID: cccc00000001\n-- Revises: aaaa00000001, aaaa00000002\n-- Message: bad merge\n\n-- migrate:upgrade\nCREATE TABLE t (x);\n\n-- migrate:downgrade\nDROP TABLE t;\n",
    )
    .unwrap();
    let expected = "revises both aaaa00000001 and aaaa00000002, but aaaa00000001 is already an ancestor of aaaa00000002: a merge's parents must be independent (revise aaaa00000002 alone)\n";
    for cmd in [&["--db", "app.db", "upgrade", "heads"][..], &["heads"], &["history"], &["upgrade", "base:heads", "--sql"]] {
        let (code, out, err) = athanor(p, cmd);
        assert_eq!((code, out.as_str()), (1, ""), "{cmd:?}: {err}");
        assert!(
            err.starts_with("FAILED [PARSE_ERROR]: Revision cccc00000001 (")
                && err.contains("cccc00000001_bad_merge.sql) ")
                && err.ends_with(expected),
            "{cmd:?}: {err}"
        );
    }
    assert!(!p.join("app.db").exists(), "nothing was created");

    // `merge` cannot write one: it merges heads only (as Alembic's, which has no
    // --splice), and aaaa00000001 is not a head.
    std::fs::remove_file(m.join("cccc00000001_bad_merge.sql")).unwrap();
    let before = files(&m);
    let (code, _, err) = athanor(p, &["merge", "-m", "bad", "aaaa00000001", "aaaa00000002", "--rev-id", "dddd00000001"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "FAILED [USAGE]: Revision aaaa00000001 is not a head revision; please specify --splice to create a new branch from this revision\n"
    );
    assert_eq!(files(&m), before, "nothing written");
    let (code, _, err) = athanor(p, &["merge", "-m", "bad", "aaaa00000001", "aaaa00000002", "--splice"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: merge does not take --splice (its options: --message, --branch-label, --rev-id)\n"));
    // The history itself is fine.
    let (code, _, err) = athanor(p, &["--db", "app.db", "upgrade", "heads"]);
    assert_eq!(code, 0, "{err}");
}
