//! Bad input and faults through the native CLI binary: nothing lost, nothing hangs,
//! nothing written outside its place (issue 11).

mod common;

use common::athanor_bin as athanor;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn migration(id: &str, parent: &str, up: &str) -> String {
    format!("-- Revision ID: {id}\n-- Revises: {parent}\n-- Message: {id}\n\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n")
}

/// A statement that keeps SQLite busy for about `n / 5,000,000` seconds here.
fn burn(n: u64) -> String {
    format!("CREATE TABLE burn AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) AS n FROM c;")
}

/// How many rows `burn` needs to take about `secs` on this machine now.
fn burn_rows_for(secs: f64) -> u64 {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::create_dir(p.join("m")).unwrap();
    let n = 3_000_000;
    std::fs::write(p.join("m/a1_burn.sql"), migration("a1", "", &burn(n))).unwrap();
    let start = Instant::now();
    let (code, _, err) = athanor(p, &["--dir", "m", "--db", "x.db", "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    (n as f64 * secs / start.elapsed().as_secs_f64()) as u64
}

#[test]
fn losers_of_a_race_to_create_the_database_leave_the_winners_file_alone() {
    // The winner's upgrade outlasts the others' 5 s wait for the lock (with margin:
    // a loaded machine runs it slower than the calibration, never much faster).
    let rows = burn_rows_for(9.0);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::create_dir(p.join("m")).unwrap();
    std::fs::write(p.join("m/a1_log.sql"), migration("a1", "", "CREATE TABLE log (rev TEXT);\nINSERT INTO log VALUES ('a1');")).unwrap();
    std::fs::write(p.join("m/a2_burn.sql"), migration("a2", "a1", &format!("{}\nINSERT INTO log VALUES ('a2');", burn(rows)))).unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_athanor"))
                .current_dir(p)
                .args(["--dir", "m", "--db", "x.db", "upgrade", "head"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let errs: Vec<String> = outs.iter().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).collect();
    let won = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "one migrator wins: {errs:#?}");
    for (o, err) in outs.iter().zip(&errs) {
        if !o.status.success() {
            assert!(err.contains("FAILED [LOCKED]"), "the others fail LOCKED: {err}");
        }
    }
    let conn = rusqlite::Connection::open(p.join("x.db")).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let version: String = conn.query_row("SELECT version_num FROM alembic_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, "a2");
    let log: Vec<String> =
        conn.prepare("SELECT rev FROM log ORDER BY rowid").unwrap().query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(log, ["a1", "a2"], "each migration ran once");
    let history: i64 = conn.query_row("SELECT count(*) FROM athanor_history", [], |r| r.get(0)).unwrap();
    assert_eq!(history, 2);
}

#[test]
fn a_failed_first_upgrade_removes_the_file_it_created() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::create_dir(p.join("m")).unwrap();
    std::fs::write(p.join("m/a1_bad.sql"), migration("a1", "", "CREATE TABLE t (id INTEGER);\nSELECT * FROM missing;")).unwrap();
    let (code, _, err) = athanor(p, &["--dir", "m", "--db", "x.db", "upgrade", "head"]);
    assert_eq!(code, 1);
    assert!(err.contains("FAILED [MIGRATION_FAILED]"), "{err}");
    let left: Vec<_> = std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["m"]);
}

#[test]
fn bundle_escapes_the_directory_name_so_importing_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    // `--dir` is a path, so it may hold `*/` and `//`; each name ends the generated
    // `//` comment with a line break and comments out the rest of the line.
    for (i, dir) in
        ["p*/\nglobalThis.ran = 'newline'; //", "q*/\u{2028}globalThis.ran = 'u2028'; //", "r*/\rglobalThis.ran = 'cr'; //"].iter().enumerate()
    {
        std::fs::create_dir_all(p.join(dir)).unwrap();
        std::fs::write(p.join(dir).join("a1_t.sql"), migration("a1", "", "CREATE TABLE t (id INTEGER);")).unwrap();
        let out = format!("bundle{i}.mjs");
        let (code, _, err) = athanor(p, &["--dir", dir, "bundle", "-o", &out]);
        assert_eq!(code, 0, "{err}");
        let script = format!(
            "const m = await import('./{out}'); \
             if (globalThis.ran) {{ console.log('ran: ' + globalThis.ran); process.exit(3); }} \
             if (!m.default['a1_t.sql'].includes('CREATE TABLE t')) process.exit(4);"
        );
        let run = Command::new("node").current_dir(p).args(["--input-type=module", "-e", &script]).output().expect("node");
        assert!(run.status.success(), "{dir:?}: {} {}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    }
}

/// Runs the binary with a deadline: a read that blocks (a FIFO) must not hang the test.
fn athanor_within(cwd: &Path, args: &[&str], secs: u64) -> (i32, String, String) {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_athanor")).current_dir(cwd).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("athanor {args:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo").success();
    assert!(ok);
}

fn project_with_one_migration() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("m")).unwrap();
    std::fs::write(tmp.path().join("m/a1_t.sql"), migration("a1", "", "CREATE TABLE t (id INTEGER);")).unwrap();
    tmp
}

#[test]
fn fifos_are_refused_not_read() {
    // athanor.ini
    let tmp = project_with_one_migration();
    let p = tmp.path();
    mkfifo(&p.join("athanor.ini"));
    let (code, _, err) = athanor_within(p, &["--dir", "m", "heads"], 10);
    assert_eq!((code, err.as_str()), (1, "FAILED [IO_ERROR]: cannot read 'athanor.ini': it is a FIFO, not a regular file\n"));
    // a migration
    let tmp = project_with_one_migration();
    let p = tmp.path();
    mkfifo(&p.join("m/a2_fifo.sql"));
    let (code, _, err) = athanor_within(p, &["--dir", "m", "heads"], 10);
    let real = std::fs::canonicalize(p.join("m")).unwrap();
    assert_eq!((code, err), (1, format!("FAILED [IO_ERROR]: cannot read '{}/a2_fifo.sql': it is a FIFO, not a regular file\n", real.display())));
    // schema.sql
    let tmp = project_with_one_migration();
    let p = tmp.path();
    mkfifo(&p.join("schema.sql"));
    let (code, _, err) = athanor_within(p, &["--dir", "m", "revision", "--autogenerate", "-m", "x"], 10);
    assert_eq!((code, err.as_str()), (1, "FAILED [IO_ERROR]: cannot read 'schema.sql': it is a FIFO, not a regular file\n"));
    assert_eq!(std::fs::read_dir(p.join("m")).unwrap().count(), 1, "no revision written");
}

#[test]
fn symlinked_migrations_are_followed_and_broken_links_refused() {
    let tmp = project_with_one_migration();
    let p = tmp.path();
    std::fs::create_dir(p.join("elsewhere")).unwrap();
    std::fs::write(p.join("elsewhere/a2.sql"), migration("a2", "a1", "CREATE TABLE u (id INTEGER);")).unwrap();
    std::os::unix::fs::symlink("../elsewhere/a2.sql", p.join("m/a2_u.sql")).unwrap();
    let (code, _, err) = athanor(p, &["--dir", "m", "--db", "x.db", "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Running upgrade a1 -> a2"), "{err}");
    let (_, out, _) = athanor(p, &["--dir", "m", "--db", "x.db", "current"]);
    assert_eq!(out, "a2 (head)\n");

    let real = std::fs::canonicalize(p.join("m")).unwrap();
    std::os::unix::fs::symlink("../elsewhere/nothing.sql", p.join("m/a3_gone.sql")).unwrap();
    let (code, _, err) = athanor(p, &["--dir", "m", "--db", "x.db", "upgrade", "head"]);
    assert_eq!(
        (code, err),
        (1, format!("FAILED [IO_ERROR]: cannot read '{}/a3_gone.sql': it is a symlink to nothing, not a regular file\n", real.display()))
    );
    std::fs::remove_file(p.join("m/a3_gone.sql")).unwrap();
    mkfifo(&p.join("elsewhere/fifo"));
    std::os::unix::fs::symlink("../elsewhere/fifo", p.join("m/a3_fifo.sql")).unwrap();
    let (code, _, err) = athanor_within(p, &["--dir", "m", "--db", "x.db", "upgrade", "head"], 10);
    assert_eq!((code, err), (1, format!("FAILED [IO_ERROR]: cannot read '{}/a3_fifo.sql': it is a FIFO, not a regular file\n", real.display())));
}

/// `heads` with the given athanor.ini (raw bytes): exit status and stderr.
fn with_ini(ini: &[u8], args: &[&str]) -> (i32, String, tempfile::TempDir) {
    let tmp = project_with_one_migration();
    std::fs::write(tmp.path().join("athanor.ini"), ini).unwrap();
    let (code, _, err) = athanor(tmp.path(), args);
    (code, err, tmp)
}

#[test]
fn athanor_ini_is_read_as_written_or_refused_at_its_line() {
    let up = ["upgrade", "head"];
    // A byte order mark is skipped: the settings under it count.
    let (code, err, tmp) = with_ini(b"\xef\xbb\xbf[athanor]\ndir = m\ndb = app.db\n", &up);
    assert_eq!(code, 0, "{err}");
    assert!(tmp.path().join("app.db").exists());
    let cases: &[(&[u8], &str)] = &[
        (
            b"[ athanor ]\ndir = m\ndb = app.db\n",
            "athanor.ini:1: unknown section '[ athanor ]': athanor.ini has one section, written exactly [athanor]",
        ),
        (b"[alembic]\nscript_location = m\n", "athanor.ini:1: unknown section '[alembic]': athanor.ini has one section, written exactly [athanor]"),
        (b"dir = m\n[athanor]\n", "athanor.ini:1: 'dir = m' is outside any section: settings go under [athanor]"),
        (
            b"[athanor]\ndir = m # where they live\ndb = app.db\n",
            "athanor.ini:2: 'dir = m # where they live': a comment must be on a line of its own (inline comments are not read)",
        ),
        (b"[athanor]\ndir = m\ndb =\n", "athanor.ini:3: 'db' is empty: give it a value, or remove the line"),
        (b"[athanor]\ndir = m\ndb = a.db\ndb = b.db\n", "athanor.ini:4: 'db' is set twice (first on line 3)"),
        (b"[athanor]\ndir = m\n[athanor]\n", "athanor.ini:3: section [athanor] appears twice (first on line 1)"),
        (b"[athanor]\ndir = m\ntransaction_per_migration = sure\n", "athanor.ini:3: transaction_per_migration = sure: expected true or false"),
        (b"[athanor]\n# caf\xe9\ndir = m\n", "athanor.ini:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    ];
    for (ini, message) in cases {
        let (code, err, tmp) = with_ini(ini, &up);
        assert_eq!((code, err.as_str()), (1, format!("FAILED [PARSE_ERROR]: {message}\n").as_str()), "{}", String::from_utf8_lossy(ini));
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(left.iter().all(|f| !f.ends_with(".db")), "nothing migrated: {left:?}");
    }
    let (code, err, _) = with_ini(b"[athanor]\ndir = m\n", &["--db", "", "upgrade", "head"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: --db is empty: pass the database file's path\n"));
}
