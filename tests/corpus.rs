//! The real SQLite migration histories of tests/fixtures/corpus run through athanor.
//!
//! Every expectation here is a real outcome, as tests/fixtures/corpus/SOURCES.md and
//! `python3 verify.py -v` document it: upstream defects included (a downgrade that fails,
//! a full downgrade that leaves tables behind, a history that needs app-defined SQL
//! functions or foreign keys off). No project is skipped and no check is loosened.
//!
//! The "floor" a migrated schema is compared with is what applying the same upgrade
//! sections in order with `execute_batch` (Python's `executescript`) gives in a second
//! database. The corpus files are parsed here independently of athanor (the way
//! verify.py does), so a parser bug in athanor cannot hide in its own expectation.
//!
//! Override the corpus location with `ATHANOR_CORPUS=/path/to/corpus`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use athanor::cli::{self, Host, NativeHost, Output};
use athanor::core::graph::RevisionMap;
use athanor::sqlite::runner::{Engine, Event, Options, TransactionMode};
use athanor::Error;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use common::OWN as OWN_TABLES;

// ------------------------------------------------------------------ the corpus, read here

/// One revision file, parsed the way verify.py parses it (not through athanor).
#[derive(Debug, Clone)]
struct Rev {
    id: String,
    revises: Option<String>,
    message: String,
    up: String,
    down: Option<String>,
}

/// One row of `PRAGMA foreign_key_list`: seq, table, from, to, on update, on delete.
type FkPart = (i64, String, String, String, String, String);

fn parse_rev(path: &Path) -> Rev {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = text.split('\n').collect();
    let mut headers = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() && !lines[i].trim().is_empty() {
        let l = lines[i].strip_prefix("-- ").unwrap_or_else(|| panic!("{}: bad header {:?}", path.display(), lines[i]));
        let (k, v) = l.split_once(':').unwrap_or_else(|| panic!("{}: bad header {:?}", path.display(), lines[i]));
        headers.insert(k.to_string(), v.trim().to_string());
        i += 1;
    }
    let body = lines[i..].join("\n");
    let (up_m, dn_m) = ("\n-- migrate:upgrade\n", "\n-- migrate:downgrade\n");
    assert_eq!(body.matches(up_m).count(), 1, "{}", path.display());
    let after = body.split_once(up_m).unwrap().1;
    let with_nl = format!("\n{after}");
    let (up, down) = match with_nl.split_once(dn_m) {
        Some((u, d)) => (u[1..].to_string(), Some(d.to_string())),
        None => (after.to_string(), None),
    };
    let h = |k: &str| headers.get(k).cloned().unwrap_or_else(|| panic!("{}: no {k}", path.display()));
    let revises = h("Revises");
    Rev { id: h("Revision ID"), revises: (!revises.is_empty()).then_some(revises), message: h("Message"), up, down }
}

struct Project {
    name: &'static str,
    dir: PathBuf,
    /// Oldest first, following the `Revises` chain (file names start with hashes).
    revs: Vec<Rev>,
}

impl Project {
    fn load(name: &'static str) -> Project {
        let dir = common::corpus().join(name);
        let mut files: Vec<Rev> = std::fs::read_dir(dir.join("versions"))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| parse_rev(&p))
            .collect();
        let mut revs = vec![];
        let mut parent: Option<String> = None;
        while !files.is_empty() {
            let pos = files.iter().position(|r| r.revises == parent).unwrap_or_else(|| panic!("{name}: chain broken after {parent:?}"));
            let r = files.remove(pos);
            assert!(files.iter().all(|f| f.revises != parent), "{name}: branch at {parent:?}");
            parent = Some(r.id.clone());
            revs.push(r);
        }
        Project { name, dir, revs }
    }
    fn versions(&self) -> String {
        self.dir.join("versions").to_string_lossy().into_owned()
    }
    fn map(&self) -> RevisionMap {
        athanor::cli::commands::load_map(&NativeHost, &self.versions()).unwrap_or_else(|e| panic!("{}: load_map: {e}", self.name))
    }
    fn head(&self) -> &str {
        &self.revs.last().unwrap().id
    }
    fn ids(&self, n: usize) -> BTreeSet<String> {
        self.revs[..n].iter().map(|r| r.id.clone()).collect()
    }
    /// The `-- Revises` id of revision `i` as a log shows it ("" for the base).
    fn parent_of(&self, i: usize) -> String {
        self.revs[i].revises.clone().unwrap_or_default()
    }
}

// ----------------------------------------------------------------------- run profiles

/// How the upstream tool runs a project (SOURCES.md "Run profile", verify.py PROFILES),
/// in athanor's terms.
#[derive(Debug, Clone, Copy)]
struct Profile {
    fk: bool,
    mode: TransactionMode,
    /// authelia's BIN2B64 / B642BIN.
    app_functions: bool,
}

fn native(project: &str) -> Profile {
    use TransactionMode::*;
    let (fk, mode) = match project {
        "vaultwarden" => (false, PerMigration), // diesel per-migration tx, app sets FKs off
        "memos" => (false, All),                // one tx, DSN foreign_keys(0)
        "atuin" | "atuin-server-sqlite" | "atuin-scripts" => (true, PerMigration), // sqlx
        "authelia" => (false, All),             // one tx, go-sqlite3 FKs off
        "flipt" => (true, PerMigration),        // golang-migrate, _fk=true
        // Prisma runs scripts without a transaction (FK on); athanor has no
        // autocommit mode for whole files, and verify.py shows every profile passes.
        "pingvin-share" => (true, All),
        other => panic!("unknown project {other}"),
    };
    Profile { fk, mode, app_functions: project == "authelia" }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(b: &[u8]) -> String {
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let vals: Vec<u32> = s.bytes().filter(|&c| c != b'=').map(|c| B64.iter().position(|&x| x == c).map(|p| p as u32)).collect::<Option<_>>()?;
    let mut out = vec![];
    for c in vals.chunks(4) {
        let n = c.iter().enumerate().fold(0u32, |acc, (k, v)| acc | v << (18 - 6 * k));
        out.extend_from_slice(&n.to_be_bytes()[1..c.len()]);
    }
    Some(out)
}

/// authelia registers these on every connection; semantics as verify.py's APP_FUNCTIONS.
fn register_app_functions(conn: &Connection) {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("BIN2B64", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Blob(b) | ValueRef::Text(b) => Some(b64_encode(b)),
            other => Some(b64_encode(format!("{other:?}").as_bytes())),
        })
    })
    .unwrap();
    conn.create_scalar_function("B642BIN", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                Some(b64_decode(std::str::from_utf8(t).unwrap_or("")).ok_or_else(|| rusqlite::Error::UserFunctionError("invalid base64".into()))?)
            }
            _ => return Err(rusqlite::Error::UserFunctionError("B642BIN needs text".into())),
        })
    })
    .unwrap();
}

/// A connection set up as the profile says (rusqlite's bundled SQLite defaults FKs to
/// ON, so the pragma is always set explicitly).
fn connect(path: Option<&Path>, p: Profile) -> Connection {
    let conn = match path {
        Some(path) => Connection::open(path).unwrap(),
        None => Connection::open_in_memory().unwrap(),
    };
    conn.execute_batch(if p.fk { "PRAGMA foreign_keys = ON" } else { "PRAGMA foreign_keys = OFF" }).unwrap();
    assert_eq!(conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, bool>(0)).unwrap(), p.fk);
    if p.app_functions {
        register_app_functions(&conn);
    }
    conn
}

/// The floor: the first `n` upgrade sections applied with `execute_batch` (autocommit,
/// as Python's `executescript`), in a fresh in-memory database.
fn floor(project: &Project, n: usize, p: Profile) -> Connection {
    let conn = connect(None, p);
    for r in &project.revs[..n] {
        conn.execute_batch(&r.up).unwrap_or_else(|e| panic!("{}: floor: {} failed: {e}", project.name, r.id));
    }
    conn
}

fn engine<'a>(conn: &'a Connection, map: &'a RevisionMap, mode: TransactionMode) -> Engine<'a> {
    Engine::new(conn, map, Options { version_table: "alembic_version".into(), transaction: mode })
}

// -------------------------------------------------------------------- schema snapshots

fn norm_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut st = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = st.column_count();
    let r = st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()).unwrap();
    r.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Null => String::new(),
        other => format!("{other:?}"),
    }
}

/// A strict, normalised description of every schema object (athanor's own tables left
/// out): sqlite_master entries, columns (PRAGMA table_xinfo), indexes with their
/// columns, foreign keys, triggers, views, and each table's row count.
fn schema(conn: &Connection) -> Vec<String> {
    let mut out = vec![];
    for o in rows(conn, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name") {
        let (ty, name, tbl, sql) = (text(&o[0]), text(&o[1]), text(&o[2]), text(&o[3]));
        if OWN_TABLES.contains(&tbl.as_str()) {
            continue;
        }
        out.push(format!("{ty} {name} on {tbl}: {}", norm_ws(&sql)));
        if ty != "table" {
            continue;
        }
        for c in rows(conn, &format!("PRAGMA table_xinfo({})", q(&name))) {
            out.push(format!("  column {name} {c:?}"));
        }
        for f in rows(conn, &format!("PRAGMA foreign_key_list({})", q(&name))) {
            out.push(format!("  fk {name} {f:?}"));
        }
        for i in rows(conn, &format!("PRAGMA index_list({})", q(&name))) {
            out.push(format!("  index {name} {:?}", &i[1..]));
            for x in rows(conn, &format!("PRAGMA index_xinfo({})", q(&text(&i[1])))) {
                out.push(format!("    {x:?}"));
            }
        }
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", q(&name)), [], |r| r.get(0)).unwrap();
        out.push(format!("  rows {name} {n}"));
    }
    out
}

/// verify.py's `leftover`: schema objects other than sqlite_sequence and autoindexes.
fn leftover(conn: &Connection) -> Vec<String> {
    rows(
        conn,
        "SELECT type, name FROM sqlite_master WHERE name <> 'sqlite_sequence' \
         AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY type, name",
    )
    .iter()
    .map(|r| format!("{} {}", text(&r[0]), text(&r[1])))
    .collect()
}

fn user_tables(conn: &Connection) -> Vec<String> {
    rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name")
        .iter()
        .map(|r| text(&r[0]))
        .filter(|n| !OWN_TABLES.contains(&n.as_str()))
        .collect()
}

/// (tables, explicit indexes) as verify.py counts them ("-> 5 indexes, 13 tables").
fn object_counts(conn: &Connection) -> (usize, usize) {
    let count = |ty: &str| {
        rows(conn, &format!("SELECT tbl_name FROM sqlite_master WHERE type = '{ty}' AND name NOT LIKE 'sqlite_%'"))
            .iter()
            .filter(|r| !OWN_TABLES.contains(&text(&r[0]).as_str()))
            .count()
    };
    (count("table"), count("index"))
}

/// Revisions recorded in athanor's history table (none when it does not exist).
fn history_ids(conn: &Connection) -> BTreeSet<String> {
    let exists: bool = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'athanor_history'", [], |r| r.get(0)).unwrap();
    if !exists {
        return BTreeSet::new();
    }
    rows(conn, "SELECT revision FROM athanor_history WHERE version_table = 'alembic_version'").iter().map(|r| text(&r[0])).collect()
}

fn integrity_ok(conn: &Connection) {
    let res: Vec<String> = rows(conn, "PRAGMA integrity_check").iter().map(|r| text(&r[0])).collect();
    assert_eq!(res, vec!["ok".to_string()]);
}

/// Everything a failed run must leave as it was: schema, version rows, athanor's history.
fn state(conn: &Connection) -> (Vec<String>, Vec<String>, Vec<Vec<Value>>) {
    let has_vt: bool = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'", [], |r| r.get(0)).unwrap();
    let vt = if has_vt { rows(conn, "SELECT version_num FROM alembic_version ORDER BY rowid").iter().map(|r| text(&r[0])).collect() } else { vec![] };
    let has_h: bool = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'athanor_history'", [], |r| r.get(0)).unwrap();
    let h = if has_h { rows(conn, "SELECT * FROM athanor_history ORDER BY revision") } else { vec![] };
    (schema(conn), vt, h)
}

/// Asserts a MIGRATION_FAILED error at exactly this revision, file line, statement
/// (comment lines before it aside) and SQLite message.
fn assert_migration_failed(err: &Error, rev: &str, file_suffix: &str, line: usize, statement: &str, message: &str) {
    assert_eq!(err.code(), "MIGRATION_FAILED", "{err}");
    let Error::MigrationFailed(f) = err else { panic!("not MigrationFailed: {err:?}") };
    assert_eq!(f.revision, rev);
    assert!(f.file.ends_with(file_suffix), "file {}", f.file);
    assert_eq!(f.line, line, "line of {:?}", f.statement);
    let stmt = f.statement.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    assert_eq!(stmt.trim(), statement);
    assert!(f.sqlite_message.contains(message), "sqlite message {:?}", f.sqlite_message);
    let shown = err.to_string();
    for part in [rev, message, &format!("{file_suffix}:{line}")] {
        assert!(shown.contains(part), "{shown:?} lacks {part:?}");
    }
}

// -------------------------------------------------------------------------- scenarios

/// athanor reads the same chain and the same section text as upstream: ids, parents,
/// messages, and every section's sha256 (stripped) as recorded in manifest.json.
fn parses_as_upstream(name: &'static str, n_revs: usize, has_down: bool) {
    let p = Project::load(name);
    assert_eq!(p.revs.len(), n_revs);
    let map = p.map();
    assert_eq!(map.len(), n_revs);
    assert_eq!(map.heads.iter().map(|&h| map.id(h)).collect::<Vec<_>>(), vec![p.head()]);
    assert_eq!(map.real_heads, map.heads);
    assert_eq!(map.bases.iter().map(|&b| map.id(b)).collect::<Vec<_>>(), vec![p.revs[0].id.as_str()]);
    let manifest = std::fs::read_to_string(p.dir.join("manifest.json")).unwrap();
    let hashes = manifest_hashes(&manifest);
    assert_eq!(hashes.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(), p.revs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>());
    let sha = |s: &str| Sha256::digest(s.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (r, (id, up_sha, down_sha)) in p.revs.iter().zip(&hashes) {
        let s = &map.node(map.index_of(id).unwrap()).script;
        assert_eq!(s.parents, r.revises.iter().cloned().collect::<Vec<_>>(), "{id}");
        assert_eq!(s.message, r.message, "{id}");
        assert_eq!(&sha(&s.upgrade.sql), up_sha, "{id}: upgrade section differs from upstream");
        assert_eq!(s.upgrade.sql.trim(), r.up.trim(), "{id}");
        assert_eq!(s.downgrade.as_ref().map(|d| d.sql.trim()), r.down.as_deref().map(str::trim), "{id}");
        match (&s.downgrade, down_sha) {
            (None, None) => assert!(!has_down, "{id}: downgrade section missing"),
            (Some(d), Some(h)) => {
                assert!(has_down);
                assert_eq!(&sha(&d.sql), h, "{id}: downgrade section differs from upstream");
                assert!(d.transactional && s.upgrade.transactional);
            }
            (d, h) => panic!("{id}: downgrade presence {} vs manifest {}", d.is_some(), h.is_some()),
        }
    }
}

/// (revision, up sha, down sha) from manifest.json, which has one key per line.
fn manifest_hashes(manifest: &str) -> Vec<(String, String, Option<String>)> {
    let val = |l: &str| -> Option<String> {
        let v = l.split_once(':')?.1.trim().trim_end_matches(',');
        (v != "null").then(|| v.trim_matches('"').to_string())
    };
    let mut out: Vec<(String, String, Option<String>)> = vec![];
    for l in manifest.lines().map(str::trim) {
        if l.starts_with("\"revision\":") {
            out.push((val(l).unwrap(), String::new(), None));
        } else if l.starts_with("\"up_sha256_stripped\":") {
            out.last_mut().unwrap().1 = val(l).unwrap();
        } else if l.starts_with("\"down_sha256_stripped\":") {
            out.last_mut().unwrap().2 = val(l);
        }
    }
    out
}

/// Empty → head on a real file, the whole run in one transaction, under the project's
/// FK setting: version table = [head], history records every revision, schema = floor,
/// and the file reopens intact.
fn upgrade_one_transaction(name: &'static str, tables: usize, indexes: usize) {
    let p = Project::load(name);
    let prof = Profile { mode: TransactionMode::All, ..native(name) };
    let map = p.map();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let conn = connect(Some(&path), prof);
        let mut finished = vec![];
        let report = engine(&conn, &map, prof.mode)
            .upgrade("heads", &mut |e: &Event| {
                if let Event::StepFinished { step, .. } = e {
                    finished.push(map.id(step.revision().unwrap()).to_string());
                }
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.plan.steps.len(), p.revs.len());
        assert_eq!(finished, p.revs.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), "steps run in chain order");
        assert!(conn.is_autocommit(), "no transaction left open");
    }
    let conn = connect(Some(&path), prof);
    assert_eq!(engine(&conn, &map, prof.mode).current_rows().unwrap(), vec![p.head().to_string()]);
    assert_eq!(history_ids(&conn), p.ids(p.revs.len()));
    assert_eq!(schema(&conn), schema(&floor(&p, p.revs.len(), prof)));
    assert_eq!(object_counts(&conn), (tables, indexes), "verify.py's '-> N indexes, M tables'");
    integrity_ok(&conn);
    // Upgrading again is a no-op.
    assert!(engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap().plan.steps.is_empty());
    assert_eq!(engine(&conn, &map, prof.mode).current_rows().unwrap(), vec![p.head().to_string()]);
}

/// Empty → head in the project's native profile (one transaction per migration).
fn upgrade_native_profile(name: &'static str) {
    let p = Project::load(name);
    let prof = native(name);
    assert_eq!(prof.mode, TransactionMode::PerMigration);
    let map = p.map();
    let conn = connect(None, prof);
    let mut n = 0;
    engine(&conn, &map, prof.mode)
        .upgrade("head", &mut |e: &Event| n += matches!(e, Event::StepFinished { .. }) as usize)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(n, p.revs.len());
    assert_eq!(engine(&conn, &map, prof.mode).current_rows().unwrap(), vec![p.head().to_string()]);
    assert_eq!(history_ids(&conn), p.ids(p.revs.len()));
    assert_eq!(schema(&conn), schema(&floor(&p, p.revs.len(), prof)));
    integrity_ok(&conn);
}

fn run_cli(args: &[&str]) -> Output {
    cli::run(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &NativeHost)
}

/// What a failed command printed as its error: stderr from `FAILED [` on (progress
/// lines come before it).
fn failure(out: &Output) -> &str {
    assert_eq!(out.status, 1, "expected a failure: {out:?}");
    let k = out.stderr.find("FAILED [").unwrap_or_else(|| panic!("no FAILED line in {:?}", out.stderr));
    &out.stderr[k..]
}

/// SPEC: "non-zero with a one-line error on stderr". Checked last in each test, so the
/// other checks still report on their own.
fn assert_one_line_error(out: &Output) {
    let f = failure(out);
    assert!(f.ends_with('\n') && f.trim_end().lines().count() == 1, "SPEC wants a one-line error on stderr; got {f:?}");
}

/// Whether connections the CLI opens enforce foreign keys (rusqlite's bundled SQLite
/// is compiled with SQLITE_DEFAULT_FOREIGN_KEYS=1; the CLI sets nothing itself).
fn cli_fk() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let mut db = NativeHost.open_db(&dir.path().join("probe.db").to_string_lossy(), true).unwrap().unwrap();
    db.values("PRAGMA foreign_keys", &[]).unwrap() == [Some("1".to_string())]
}

/// `history`: newest first, `parent -> rev (head), message`, as Alembic prints it.
fn expected_history(p: &Project) -> String {
    let mut s = String::new();
    for (i, r) in p.revs.iter().enumerate().rev() {
        let parent = r.revises.clone().unwrap_or_else(|| "<base>".into());
        let head = if i + 1 == p.revs.len() { " (head)" } else { "" };
        s.push_str(&format!("{parent} -> {}{head}, {}\n", r.id, r.message));
    }
    s
}

/// The expected `Running upgrade` log of a full upgrade.
fn expected_upgrade_log(p: &Project) -> String {
    (0..p.revs.len()).map(|i| format!("INFO  [athanor] Running upgrade {} -> {}, {}\n", p.parent_of(i), p.revs[i].id, p.revs[i].message)).collect()
}

/// A full CLI session on a real file where the history applies under the CLI's own
/// connection (FKs as the CLI leaves them, one transaction, no app functions).
fn cli_session_succeeds(p: &Project) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db").to_string_lossy().into_owned();
    let v = p.versions();
    let base = ["--dir", v.as_str(), "--db", db.as_str()];
    let with = |extra: &[&str]| run_cli(&[&base[..], extra].concat());

    let up = with(&["upgrade", "head"]);
    assert_eq!((up.status, up.stdout.as_str()), (0, ""), "{}", up.stderr);
    assert_eq!(up.stderr, expected_upgrade_log(p));
    let cur = with(&["current"]);
    assert_eq!((cur.status, cur.stdout.clone(), cur.stderr.clone()), (0, format!("{} (head)\n", p.head()), String::new()));
    let heads = with(&["heads"]);
    assert_eq!((heads.status, heads.stdout), (0, format!("{} (head)\n", p.head())));
    let hist = with(&["history"]);
    assert_eq!(hist.status, 0, "{}", hist.stderr);
    assert_eq!(hist.stdout.lines().count(), p.revs.len());
    assert_eq!(hist.stdout, expected_history(p));
    // A second upgrade runs nothing.
    let again = with(&["upgrade", "head"]);
    assert_eq!((again.status, again.stderr.as_str()), (0, ""));

    // The file as the sqlite3 shell or Python would open it.
    let conn = Connection::open(&db).unwrap();
    integrity_ok(&conn);
    assert!(rows(&conn, "PRAGMA foreign_key_check").is_empty());
    assert_eq!(rows(&conn, "SELECT version_num FROM alembic_version").iter().map(|r| text(&r[0])).collect::<Vec<_>>(), vec![p.head()]);
    let prof = Profile { fk: cli_fk(), mode: TransactionMode::All, app_functions: false };
    assert_eq!(schema(&conn), schema(&floor(p, p.revs.len(), prof)));
}

fn cli_session(name: &'static str) {
    cli_session_succeeds(&Project::load(name));
}

// -------------------------------------------------------- 0. athanor reads the corpus

#[test]
fn vaultwarden_parses_as_upstream() {
    parses_as_upstream("vaultwarden", 56, true);
}
#[test]
fn memos_parses_as_upstream() {
    parses_as_upstream("memos", 62, false);
}
#[test]
fn atuin_parses_as_upstream() {
    parses_as_upstream("atuin", 12, false);
}
#[test]
fn atuin_server_sqlite_parses_as_upstream() {
    parses_as_upstream("atuin-server-sqlite", 7, false);
}
#[test]
fn atuin_scripts_parses_as_upstream() {
    parses_as_upstream("atuin-scripts", 2, true);
}
#[test]
fn authelia_parses_as_upstream() {
    parses_as_upstream("authelia", 26, true);
}
#[test]
fn flipt_parses_as_upstream() {
    parses_as_upstream("flipt", 16, false);
}
#[test]
fn pingvin_share_parses_as_upstream() {
    parses_as_upstream("pingvin-share", 24, false);
}

// ------------------------------------- 1. empty → head, one transaction, on a real file

#[test]
fn vaultwarden_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("vaultwarden", 28, 0);
}
/// memos needs FKs off (its DSN); with them on it fails, see the memos_fk_on tests.
#[test]
fn memos_upgrade_to_head_one_transaction_fk_off_matches_floor() {
    upgrade_one_transaction("memos", 13, 5);
}
#[test]
fn atuin_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("atuin", 1, 6);
}
#[test]
fn atuin_server_sqlite_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("atuin-server-sqlite", 5, 5);
}
#[test]
fn atuin_scripts_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("atuin-scripts", 2, 2);
}
/// authelia needs BIN2B64 registered; without it, see authelia_without_app_functions.
#[test]
fn authelia_upgrade_to_head_one_transaction_with_app_functions_matches_floor() {
    upgrade_one_transaction("authelia", 25, 42);
}
#[test]
fn flipt_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("flipt", 14, 1);
}
/// pingvin-share's `PRAGMA foreign_key_check` returns a result set athanor must drain.
#[test]
fn pingvin_share_upgrade_to_head_one_transaction_matches_floor() {
    upgrade_one_transaction("pingvin-share", 11, 7);
}

// ----------------------------- 1b. empty → head in the native per-migration profiles

#[test]
fn vaultwarden_upgrade_native_profile_per_migration_fk_off() {
    upgrade_native_profile("vaultwarden");
}
#[test]
fn atuin_upgrade_native_profile_per_migration_fk_on() {
    upgrade_native_profile("atuin");
}
#[test]
fn atuin_server_sqlite_upgrade_native_profile_per_migration_fk_on() {
    upgrade_native_profile("atuin-server-sqlite");
}
#[test]
fn atuin_scripts_upgrade_native_profile_per_migration_fk_on() {
    upgrade_native_profile("atuin-scripts");
}
#[test]
fn flipt_upgrade_native_profile_per_migration_fk_on() {
    upgrade_native_profile("flipt");
}

// ------------------------------------------------------------ 1c. documented failures

const MEMOS_0_2_01: &str = "3fcb698c4d66";
const MEMOS_0_3_00: &str = "338b77cfccaf";

/// SOURCES.md: with foreign_keys=ON and per-revision transactions (the PRAGMA inside
/// is ignored), 0.3/00 fails at `DROP TABLE IF EXISTS _memo_old` with
/// `no such table: main._user_old`. The revisions before it stay committed.
#[test]
fn memos_fk_on_per_migration_fails_at_0_3_00_and_stays_at_0_2_01() {
    let p = Project::load("memos");
    assert_eq!((p.revs[2].id.as_str(), p.revs[3].id.as_str()), (MEMOS_0_2_01, MEMOS_0_3_00));
    let map = p.map();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memos.db");
    let prof = Profile { fk: true, mode: TransactionMode::PerMigration, app_functions: false };
    {
        let conn = connect(Some(&path), prof);
        let err = engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap_err();
        assert_migration_failed(
            &err,
            MEMOS_0_3_00,
            "338b77cfccaf_memo_visibility_protected.sql",
            47,
            "DROP TABLE IF EXISTS _memo_old;",
            "no such table: main._user_old",
        );
        assert!(conn.is_autocommit(), "failed revision rolled back, no transaction left open");
    }
    let conn = connect(Some(&path), prof);
    assert_eq!(engine(&conn, &map, prof.mode).current_rows().unwrap(), vec![MEMOS_0_2_01.to_string()]);
    assert_eq!(history_ids(&conn), p.ids(3));
    assert_eq!(schema(&conn), schema(&floor(&p, 3, native("memos"))));
    integrity_ok(&conn);
}

/// The same failure in one transaction (as Python's single/fk=on) changes nothing.
#[test]
fn memos_fk_on_one_transaction_fails_at_0_3_00_and_changes_nothing() {
    let p = Project::load("memos");
    let map = p.map();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memos.db");
    let prof = Profile { fk: true, mode: TransactionMode::All, app_functions: false };
    {
        let conn = connect(Some(&path), prof);
        let err = engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap_err();
        assert_migration_failed(
            &err,
            MEMOS_0_3_00,
            "338b77cfccaf_memo_visibility_protected.sql",
            47,
            "DROP TABLE IF EXISTS _memo_old;",
            "no such table: main._user_old",
        );
    }
    let conn = connect(Some(&path), prof);
    assert!(rows(&conn, "SELECT name FROM sqlite_master").is_empty(), "nothing created, not even the version table");
    assert!(engine(&conn, &map, prof.mode).current_rows().unwrap().is_empty());
}

/// SOURCES.md: without BIN2B64 the V0002 up fails to prepare (`no such function`) even
/// on an empty table; in authelia's one transaction nothing of V0001 stays either.
#[test]
fn authelia_without_app_functions_fails_at_v0002_and_changes_nothing() {
    let p = Project::load("authelia");
    let map = p.map();
    let prof = Profile { app_functions: false, ..native("authelia") };
    let conn = connect(None, prof);
    let err = engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap_err();
    let Error::MigrationFailed(f) = &err else { panic!("{err:?}") };
    assert_eq!((err.code(), f.revision.as_str()), ("MIGRATION_FAILED", "ced8ed7afb63"), "{err}");
    assert!(f.sqlite_message.contains("no such function: BIN2B64"), "{err}");
    assert!(f.statement.contains("BIN2B64("), "{err}");
    assert!(rows(&conn, "SELECT name FROM sqlite_master").is_empty());
}

// ------------------------------------------------------------------------ 2. downgrades

/// SOURCES.md: authelia's full downgrade returns to an empty schema (25/26 exact
/// inverses); athanor's two tables are all that remain, both empty.
#[test]
fn authelia_downgrade_to_base_leaves_only_athanor_tables() {
    let p = Project::load("authelia");
    let map = p.map();
    let prof = native("authelia");
    let conn = connect(None, prof);
    let e = engine(&conn, &map, prof.mode);
    e.upgrade("head", &mut |_| {}).unwrap();
    let mut n = 0;
    e.downgrade("base", &mut |ev: &Event| n += matches!(ev, Event::StepFinished { .. }) as usize).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 26);
    assert_eq!(leftover(&conn), vec!["table alembic_version", "table athanor_history"]);
    assert!(user_tables(&conn).is_empty());
    assert!(e.current_rows().unwrap().is_empty());
    assert!(history_ids(&conn).is_empty());
    integrity_ok(&conn);
}

/// SOURCES.md: 32 of vaultwarden's 56 downs do nothing, so a full downgrade leaves
/// exactly auth_requests, folders_ciphers and organization_api_key behind.
#[test]
fn vaultwarden_downgrade_to_base_leaves_exactly_three_tables() {
    let p = Project::load("vaultwarden");
    let map = p.map();
    let prof = native("vaultwarden");
    let conn = connect(None, prof);
    let e = engine(&conn, &map, prof.mode);
    e.upgrade("head", &mut |_| {}).unwrap();
    let mut n = 0;
    e.downgrade("base", &mut |ev: &Event| n += matches!(ev, Event::StepFinished { .. }) as usize).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 56);
    assert_eq!(
        leftover(&conn),
        vec!["table alembic_version", "table athanor_history", "table auth_requests", "table folders_ciphers", "table organization_api_key"]
    );
    assert!(e.current_rows().unwrap().is_empty());
    assert!(history_ids(&conn).is_empty());
    integrity_ok(&conn);
}

/// SOURCES.md: the down of `unique names` is MySQL syntax and fails with
/// `near "index": syntax error`. It is the first step, and the run is one
/// transaction: the database is exactly as before.
#[test]
fn atuin_scripts_downgrade_fails_at_unique_names_and_changes_nothing() {
    let p = Project::load("atuin-scripts");
    let map = p.map();
    let prof = Profile { mode: TransactionMode::All, ..native("atuin-scripts") };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scripts.db");
    let before;
    {
        let conn = connect(Some(&path), prof);
        let e = engine(&conn, &map, prof.mode);
        e.upgrade("head", &mut |_| {}).unwrap();
        before = state(&conn);
        let err = e.downgrade("base", &mut |_| {}).unwrap_err();
        assert_migration_failed(
            &err,
            "edd312028daa",
            "edd312028daa_unique_names.sql",
            12,
            "alter table scripts drop index name_uniq_idx;",
            "near \"index\": syntax error",
        );
        assert!(conn.is_autocommit());
        assert_eq!(state(&conn), before);
    }
    let conn = connect(Some(&path), prof);
    assert_eq!(state(&conn), before);
    assert_eq!(engine(&conn, &map, prof.mode).current_rows().unwrap(), vec!["edd312028daa".to_string()]);
    assert_eq!(schema(&conn), schema(&floor(&p, 2, prof)));
    integrity_ok(&conn);
}

/// `downgrade -1` then `upgrade +1`: vaultwarden's last down (`sso auth error`, a DROP
/// COLUMN) is an exact inverse, so each state equals the floor at that revision.
#[test]
fn vaultwarden_downgrade_minus_1_then_upgrade_plus_1_round_trip() {
    let p = Project::load("vaultwarden");
    let map = p.map();
    let prof = native("vaultwarden");
    let conn = connect(None, prof);
    let e = engine(&conn, &map, prof.mode);
    e.upgrade("head", &mut |_| {}).unwrap();
    let n = p.revs.len();

    let down = e.downgrade("-1", &mut |_| {}).unwrap();
    assert_eq!(down.plan.steps.len(), 1);
    assert_eq!(e.current_rows().unwrap(), vec![p.revs[n - 2].id.clone()]);
    assert_eq!(history_ids(&conn), p.ids(n - 1));
    assert_eq!(schema(&conn), schema(&floor(&p, n - 1, prof)));

    let up = e.upgrade("+1", &mut |_| {}).unwrap();
    assert_eq!(up.plan.steps.len(), 1);
    assert_eq!(e.current_rows().unwrap(), vec![p.head().to_string()]);
    assert_eq!(history_ids(&conn), p.ids(n));
    assert_eq!(schema(&conn), schema(&floor(&p, n, prof)));
    integrity_ok(&conn);
}

/// Alembic, which knows nothing of athanor's history, moved vaultwarden down two
/// revisions (their down SQL, then the version row). athanor's next run, one
/// transaction per migration as vaultwarden's own, applies one of them again: its first
/// version-table write forgets the history of the one still not applied.
#[test]
fn vaultwarden_history_forgets_what_alembic_moved_away_from() {
    let p = Project::load("vaultwarden");
    let map = p.map();
    let prof = native("vaultwarden");
    assert_eq!(prof.mode, TransactionMode::PerMigration);
    let conn = connect(None, prof);
    let e = engine(&conn, &map, prof.mode);
    e.upgrade("head", &mut |_| {}).unwrap();
    let n = p.revs.len();
    for rev in [&p.revs[n - 1], &p.revs[n - 2]] {
        conn.execute_batch(rev.down.as_deref().unwrap()).unwrap();
    }
    conn.execute("UPDATE alembic_version SET version_num = ?1", [&p.revs[n - 3].id]).unwrap();
    assert_eq!(history_ids(&conn), p.ids(n), "Alembic left athanor's history as it was");

    assert_eq!(e.upgrade("+1", &mut |_| {}).unwrap().plan.steps.len(), 1);
    assert_eq!(e.current_rows().unwrap(), vec![p.revs[n - 2].id.clone()]);
    assert_eq!(history_ids(&conn), p.ids(n - 1));
    assert_eq!(schema(&conn), schema(&floor(&p, n - 1, prof)));
    integrity_ok(&conn);
}

// --------------------------------------------------------------- 3. memos vs schema.sql

/// verify.py's schema snapshot (tables, columns with type/notnull/default/pk, indexes,
/// foreign keys, triggers, views), ported so the differences read the same.
mod vsnap {
    use super::*;

    pub type Col = (String, bool, Option<String>, i64);
    pub type IdxSig = (bool, Vec<String>, Option<String>);
    pub type Fk = (Vec<String>, String, Vec<String>, String, String);

    pub struct Table {
        pub name: String,
        pub cols: BTreeMap<String, Col>,
        pub order: Vec<String>,
        pub idx: BTreeMap<IdxSig, Vec<(String, String)>>,
        pub fks: BTreeSet<Fk>,
        pub cosmetic: Vec<String>,
    }

    #[derive(Default)]
    pub struct Snap {
        pub tables: BTreeMap<String, Table>,
        pub triggers: BTreeMap<String, (String, String)>,
        pub views: BTreeMap<String, String>,
    }

    /// verify.py's strip_comments: drops -- and /* */ comments outside quotes.
    pub fn strip_comments(sql: &str) -> String {
        let c: Vec<char> = sql.chars().collect();
        let (mut out, mut i, n) = (String::new(), 0, c.len());
        while i < n {
            let ch = c[i];
            if "'\"`[".contains(ch) {
                let close = if ch == '[' { ']' } else { ch };
                let mut j = i + 1;
                while j < n {
                    if c[j] == close {
                        if close != ']' && j + 1 < n && c[j + 1] == close {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                out.extend(&c[i..(j + 1).min(n)]);
                i = j + 1;
            } else if ch == '-' && c.get(i + 1) == Some(&'-') {
                i = (i..n).find(|&k| c[k] == '\n').unwrap_or(n);
            } else if ch == '/' && c.get(i + 1) == Some(&'*') {
                i = (i + 2..n.saturating_sub(1)).find(|&k| c[k] == '*' && c[k + 1] == '/').map_or(n, |k| k + 2);
                out.push(' ');
            } else {
                out.push(ch);
                i += 1;
            }
        }
        out
    }

    fn norm_default(d: Option<String>) -> (Option<String>, Option<String>) {
        let Some(d) = d else { return (None, None) };
        let d = norm_ws(&d);
        if d.len() >= 2 && d.starts_with('"') && d.ends_with('"') && !d[1..d.len() - 1].contains('"') {
            return (Some(format!("'{}'", &d[1..d.len() - 1])), Some(format!("double-quoted string default {d}")));
        }
        if ["TRUE", "FALSE", "NULL", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"].contains(&d.to_uppercase().as_str()) {
            return (Some(d.to_uppercase()), None);
        }
        (Some(d), None)
    }

    fn find_ci(hay: &str, needle: &str) -> Option<usize> {
        hay.to_ascii_lowercase().find(&needle.to_ascii_lowercase())
    }

    fn index_signature(conn: &Connection, name: &str, unique: bool, partial: bool) -> IdxSig {
        let sql: Option<String> =
            conn.query_row("SELECT sql FROM sqlite_master WHERE type='index' AND name=?1", [name], |r| r.get(0)).unwrap_or(None);
        let mut cols = vec![];
        let mut expr = false;
        for r in rows(conn, &format!("PRAGMA index_xinfo({})", q(name))) {
            let (cid, cname, desc, key) = (&r[1], text(&r[2]), &r[3], &r[5]);
            if *key == Value::Integer(0) {
                continue;
            }
            if *cid == Value::Integer(-2) {
                expr = true;
                cols.push("<expr>".to_string());
            } else {
                cols.push(cname.to_lowercase() + if *desc == Value::Integer(1) { " DESC" } else { "" });
            }
        }
        let flat = sql.as_deref().map(|s| norm_ws(&strip_comments(s)));
        let mut where_ = None;
        if let (Some(s), true) = (&flat, partial) {
            where_ = Some(match find_ci(s, " WHERE ") {
                Some(k) => s[k + 7..].trim().trim_end_matches(';').trim().to_lowercase(),
                None => "?".into(),
            });
        }
        if let (Some(s), true) = (&flat, expr) {
            if let (Some(on), Some(close)) = (find_ci(s, " ON "), s.rfind(')')) {
                if let Some(open) = s[on..].find('(') {
                    let mut inner = s[on + open + 1..close].to_lowercase().replace(' ', "");
                    if where_.is_some() {
                        inner = inner.split(")where").next().unwrap().to_string();
                    }
                    cols = vec![inner];
                }
            }
        }
        (unique, cols, where_)
    }

    pub fn snapshot(conn: &Connection) -> Snap {
        let mut snap = Snap::default();
        for o in rows(conn, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name") {
            let (ty, name, tbl, sql) = (text(&o[0]), text(&o[1]), text(&o[2]), text(&o[3]));
            if OWN_TABLES.contains(&tbl.as_str()) {
                continue;
            }
            match ty.as_str() {
                "table" if name == "sqlite_sequence" || name.starts_with("sqlite_stat") => {}
                "table" => {
                    let mut t = Table {
                        name: name.clone(),
                        cols: BTreeMap::new(),
                        order: vec![],
                        idx: BTreeMap::new(),
                        fks: BTreeSet::new(),
                        cosmetic: vec![],
                    };
                    for c in rows(conn, &format!("PRAGMA table_info({})", q(&name))) {
                        let cname = text(&c[1]);
                        let dflt = match &c[4] {
                            Value::Null => None,
                            v => Some(text(v)),
                        };
                        let (nd, note) = norm_default(dflt);
                        if let Some(note) = note {
                            t.cosmetic.push(format!("{name}.{cname}: {note}"));
                        }
                        let Value::Integer(pk) = c[5] else { panic!() };
                        t.cols.insert(cname.to_lowercase(), (norm_ws(&text(&c[2])).to_uppercase(), c[3] != Value::Integer(0), nd, pk));
                        t.order.push(cname.to_lowercase());
                    }
                    for i in rows(conn, &format!("PRAGMA index_list({})", q(&name))) {
                        let iname = text(&i[1]);
                        let sig = index_signature(conn, &iname, i[2] != Value::Integer(0), i[4] != Value::Integer(0));
                        t.idx.entry(sig).or_default().push((iname, text(&i[3])));
                    }
                    let mut fks: BTreeMap<i64, Vec<FkPart>> = BTreeMap::new();
                    for f in rows(conn, &format!("PRAGMA foreign_key_list({})", q(&name))) {
                        let (Value::Integer(id), Value::Integer(seq)) = (&f[0], &f[1]) else { panic!() };
                        fks.entry(*id).or_default().push((*seq, text(&f[2]), text(&f[3]), text(&f[4]), text(&f[5]), text(&f[6])));
                    }
                    for (_, mut parts) in fks {
                        parts.sort();
                        t.fks.insert((
                            parts.iter().map(|p| p.2.to_lowercase()).collect(),
                            parts[0].1.to_lowercase(),
                            parts.iter().map(|p| p.3.to_lowercase()).collect(),
                            parts[0].4.clone(),
                            parts[0].5.clone(),
                        ));
                    }
                    snap.tables.insert(name.to_lowercase(), t);
                }
                "trigger" => {
                    snap.triggers.insert(name.to_lowercase(), (tbl.to_lowercase(), norm_ws(&strip_comments(&sql)).to_lowercase()));
                }
                "view" => {
                    snap.views.insert(name.to_lowercase(), norm_ws(&strip_comments(&sql)).to_lowercase());
                }
                _ => {}
            }
        }
        snap
    }

    fn fmt_col(c: &Col) -> String {
        let mut s = if c.0.is_empty() { "(no type)".to_string() } else { c.0.clone() };
        if c.1 {
            s += " NOT NULL";
        }
        if let Some(d) = &c.2 {
            s += &format!(" DEFAULT {d}");
        }
        if c.3 != 0 {
            s += &format!(" PK{}", c.3);
        }
        s
    }

    fn fmt_idx(sig: &IdxSig, names: &[(String, String)]) -> String {
        let w = sig.2.as_ref().map(|w| format!(" WHERE {w}")).unwrap_or_default();
        let n = names.iter().map(|(n, o)| format!("{n}/{o}")).collect::<Vec<_>>().join(", ");
        format!("{}INDEX({}){w} [{n}]", if sig.0 { "UNIQUE " } else { "" }, sig.1.join(", "))
    }

    fn fmt_fk(f: &Fk) -> String {
        format!("({}) -> {}({}) on update {} on delete {}", f.0.join(", "), f.1, f.2.join(", "), f.3, f.4)
    }

    /// verify.py's diff_snapshots: (differences, cosmetic differences), each sorted.
    pub fn diff(a: &Snap, b: &Snap, la: &str, lb: &str) -> (Vec<String>, Vec<String>) {
        let (mut diffs, mut cosm) = (vec![], vec![]);
        for (t, at) in &a.tables {
            if !b.tables.contains_key(t) {
                diffs.push(format!("table {} only in {la}", at.name));
            }
        }
        for (t, bt) in &b.tables {
            if !a.tables.contains_key(t) {
                diffs.push(format!("table {} only in {lb}", bt.name));
            }
        }
        for (t, at) in &a.tables {
            let Some(bt) = b.tables.get(t) else { continue };
            for (c, col) in &at.cols {
                match bt.cols.get(c) {
                    None => diffs.push(format!("{t}.{c} only in {la} ({})", fmt_col(col))),
                    Some(bc) if bc != col => diffs.push(format!("{t}.{c}: {la}: {} | {lb}: {}", fmt_col(col), fmt_col(bc))),
                    _ => {}
                }
            }
            for (c, col) in &bt.cols {
                if !at.cols.contains_key(c) {
                    diffs.push(format!("{t}.{c} only in {lb} ({})", fmt_col(col)));
                }
            }
            let ca: Vec<&String> = at.order.iter().filter(|c| bt.cols.contains_key(*c)).collect();
            let cb: Vec<&String> = bt.order.iter().filter(|c| at.cols.contains_key(*c)).collect();
            if ca != cb {
                cosm.push(format!("{t}: column order differs"));
            }
            for (s, names) in &at.idx {
                match bt.idx.get(s) {
                    None => diffs.push(format!("{t}: {} only in {la}", fmt_idx(s, names))),
                    Some(bn) => {
                        let c_names = |v: &[(String, String)]| {
                            let mut x: Vec<String> = v.iter().filter(|p| p.1 == "c").map(|p| p.0.clone()).collect();
                            x.sort();
                            x
                        };
                        let origins = |v: &[(String, String)]| {
                            let mut x: Vec<String> = v.iter().map(|p| p.1.clone()).collect();
                            x.sort();
                            x
                        };
                        if c_names(names) != c_names(bn) || origins(names) != origins(bn) || names.len() != bn.len() {
                            cosm.push(format!("{t}: same index, different name/origin: {} vs {}", fmt_idx(s, names), fmt_idx(s, bn)));
                        }
                    }
                }
            }
            for (s, names) in &bt.idx {
                if !at.idx.contains_key(s) {
                    diffs.push(format!("{t}: {} only in {lb}", fmt_idx(s, names)));
                }
            }
            for f in at.fks.difference(&bt.fks) {
                diffs.push(format!("{t}: FK {} only in {la}", fmt_fk(f)));
            }
            for f in bt.fks.difference(&at.fks) {
                diffs.push(format!("{t}: FK {} only in {lb}", fmt_fk(f)));
            }
            cosm.extend(at.cosmetic.iter().cloned());
            cosm.extend(bt.cosmetic.iter().filter(|x| !at.cosmetic.contains(x)).cloned());
        }
        for (kind, ka, kb) in [
            (
                "trigger",
                a.triggers.iter().map(|(k, v)| (k.clone(), format!("{v:?}"))).collect::<BTreeMap<_, _>>(),
                b.triggers.iter().map(|(k, v)| (k.clone(), format!("{v:?}"))).collect::<BTreeMap<_, _>>(),
            ),
            ("view", a.views.clone(), b.views.clone()),
        ] {
            for (n, v) in &ka {
                match kb.get(n) {
                    None => diffs.push(format!("{kind} {n} only in {la}")),
                    Some(w) if w != v => diffs.push(format!("{kind} {n} differs")),
                    _ => {}
                }
            }
            for n in kb.keys().filter(|n| !ka.contains_key(*n)) {
                diffs.push(format!("{kind} {n} only in {lb}"));
            }
        }
        diffs.sort();
        cosm.sort();
        (diffs, cosm)
    }
}

/// SOURCES.md / verify.py: memos' migrated schema drifts from its LATEST.sql in exactly
/// these 5 ways (+8 cosmetic ones). A regression either way changes the lists.
#[test]
fn memos_migrated_schema_differs_from_schema_sql_exactly_as_documented() {
    let p = Project::load("memos");
    let map = p.map();
    let prof = native("memos");
    let conn = connect(None, prof);
    engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap();
    let reference = connect(None, prof);
    reference.execute_batch(&std::fs::read_to_string(p.dir.join("schema.sql")).unwrap()).unwrap();

    let (diffs, cosmetic) = vsnap::diff(&vsnap::snapshot(&conn), &vsnap::snapshot(&reference), "migrations", "schema.sql");
    let mut expected_diffs = vec![
        "table migration_history only in migrations",
        "table storage only in migrations",
        "attachment.uid: migrations: TEXT NOT NULL DEFAULT '' | schema.sql: TEXT NOT NULL",
        "idp.uid: migrations: TEXT NOT NULL DEFAULT '' | schema.sql: TEXT NOT NULL",
        "memo.uid: migrations: TEXT NOT NULL DEFAULT '' | schema.sql: TEXT NOT NULL",
    ];
    let mut expected_cosmetic = vec![
        "attachment: column order differs",
        "attachment: same index, different name/origin: UNIQUE INDEX(uid) [idx_resource_resource_name/c] vs UNIQUE INDEX(uid) [sqlite_autoindex_attachment_1/u]",
        "attachment.uid: double-quoted string default \"\"",
        "idp: column order differs",
        "idp: same index, different name/origin: UNIQUE INDEX(uid) [idx_idp_uid/c] vs UNIQUE INDEX(uid) [sqlite_autoindex_idp_1/u]",
        "memo: column order differs",
        "memo: same index, different name/origin: UNIQUE INDEX(uid) [idx_memo_resource_name/c] vs UNIQUE INDEX(uid) [sqlite_autoindex_memo_1/u]",
        "memo.uid: double-quoted string default \"\"",
    ];
    expected_diffs.sort();
    expected_cosmetic.sort();
    assert_eq!(diffs, expected_diffs);
    assert_eq!(cosmetic, expected_cosmetic);
    // verify.py's summary counts for memos: 13 tables and 5 explicit indexes.
    assert_eq!(user_tables(&conn).len(), 13);
    let idx: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE type='index' AND sql IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(idx, 5);
}

// ------------------------------------------------------- flipt: documented SQLite quirks

/// SOURCES.md: `3_variants_attachment`'s MySQL `ADD COLUMN attachment TEXT AFTER
/// description` makes the declared type literally `TEXT AFTER description` until `7_`.
#[test]
fn flipt_upgrade_to_3_declares_type_text_after_description() {
    let p = Project::load("flipt");
    let map = p.map();
    let prof = native("flipt");
    let conn = connect(None, prof);
    let e = engine(&conn, &map, prof.mode);
    e.upgrade("a6d40bd7ff59", &mut |_| {}).unwrap();
    assert_eq!(e.current_rows().unwrap(), vec!["a6d40bd7ff59".to_string()]);
    let ty: String = conn.query_row("SELECT type FROM pragma_table_info('variants') WHERE name = 'attachment'", [], |r| r.get(0)).unwrap();
    assert_eq!(ty, "TEXT AFTER description");
    e.upgrade("head", &mut |_| {}).unwrap();
    let ty: String = conn.query_row("SELECT type FROM pragma_table_info('variants') WHERE name = 'attachment'", [], |r| r.get(0)).unwrap();
    assert_eq!(ty, "TEXT");
}

/// SOURCES.md / verify.py: flipt's `X_temp` rebuilds depend on SQLite >= 3.26 rename
/// semantics; with legacy_alter_table=ON three FKs keep pointing at the *_temp tables.
#[test]
fn flipt_legacy_alter_table_leaves_fks_to_temp_tables() {
    let p = Project::load("flipt");
    let map = p.map();
    let prof = native("flipt");
    let fks = |legacy: bool| -> BTreeSet<String> {
        // As verify.py: the legacy run has FKs off (with them on, SQLite >= 3.26 still
        // rewrites REFERENCES on rename even in legacy mode).
        let conn = connect(None, Profile { fk: !legacy, ..prof });
        if legacy {
            conn.execute_batch("PRAGMA legacy_alter_table = ON").unwrap();
        }
        engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap();
        ["constraints", "distributions", "variants"]
            .iter()
            .flat_map(|t| rows(&conn, &format!("PRAGMA foreign_key_list({t})")).into_iter().map(move |r| format!("{t} -> {}", text(&r[2]))))
            .collect()
    };
    let (default, legacy) = (fks(false), fks(true));
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
    assert_eq!(only(&default, &legacy), vec!["constraints -> segments", "distributions -> rules", "variants -> flags"]);
    assert_eq!(only(&legacy, &default), vec!["constraints -> segments_temp", "distributions -> rules_temp", "variants -> flags_temp"]);
}

// ------------------------------------------------------------------ 4. through the CLI

#[test]
fn vaultwarden_cli_upgrade_current_history() {
    cli_session("vaultwarden");
}
#[test]
fn atuin_cli_upgrade_current_history() {
    cli_session("atuin");
}
#[test]
fn atuin_server_sqlite_cli_upgrade_current_history() {
    cli_session("atuin-server-sqlite");
}
#[test]
fn atuin_scripts_cli_upgrade_current_history() {
    cli_session("atuin-scripts");
}
#[test]
fn flipt_cli_upgrade_current_history() {
    cli_session("flipt");
}
#[test]
fn pingvin_share_cli_upgrade_current_history() {
    cli_session("pingvin-share");
}

/// memos under the CLI's own connection: with FKs on (the bundled SQLite's default)
/// the whole run fails at 0.3/00 and, being one transaction, leaves nothing; with
/// `--transaction-per-migration` it stops at 0.2/01. With FKs off it simply applies.
#[test]
fn memos_cli_upgrade_current_history() {
    let p = Project::load("memos");
    if !cli_fk() {
        return cli_session_succeeds(&p);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memos.db").to_string_lossy().into_owned();
    let v = p.versions();
    let with = |extra: &[&str]| run_cli(&[&["--dir", v.as_str(), "--db", db.as_str()][..], extra].concat());

    let up = with(&["upgrade", "head"]);
    let f = failure(&up);
    assert!(f.starts_with(&format!("FAILED [MIGRATION_FAILED]: Migration {MEMOS_0_3_00} failed at ")), "{f}");
    assert!(f.contains("338b77cfccaf_memo_visibility_protected.sql:47: no such table: main._user_old"), "{f}");
    assert_eq!(with(&["current"]).stdout, "");
    assert!(rows(&Connection::open(&db).unwrap(), "SELECT name FROM sqlite_master").is_empty());

    let up2 = with(&["--transaction-per-migration", "upgrade", "head"]);
    assert!(failure(&up2).contains("338b77cfccaf_memo_visibility_protected.sql:47: no such table: main._user_old"), "{}", up2.stderr);
    let cur = with(&["current"]);
    assert_eq!((cur.status, cur.stdout), (0, format!("{MEMOS_0_2_01}\n")));
    let hist = with(&["history"]);
    assert_eq!(hist.stdout, expected_history(&p));
    let conn = Connection::open(&db).unwrap();
    integrity_ok(&conn);
    assert_eq!(schema(&conn), schema(&floor(&p, 3, native("memos"))));
    assert_one_line_error(&up);
    assert_one_line_error(&up2);
}

/// authelia under the CLI: no BIN2B64/B642BIN on the CLI's connection, so the upgrade
/// fails at V0002 and changes nothing. After an app-side upgrade (functions
/// registered), `current` / `history` read the file, and a CLI downgrade to base fails
/// at V0002's down (B642BIN) and rolls the whole run back.
#[test]
fn authelia_cli_upgrade_fails_without_app_functions_and_downgrade_rolls_back() {
    let p = Project::load("authelia");
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("authelia.db");
    let db = db_path.to_string_lossy().into_owned();
    let v = p.versions();
    let with = |extra: &[&str]| run_cli(&[&["--dir", v.as_str(), "--db", db.as_str()][..], extra].concat());

    let up = with(&["upgrade", "head"]);
    let f = failure(&up);
    assert!(f.starts_with("FAILED [MIGRATION_FAILED]: Migration ced8ed7afb63 failed at "), "{f}");
    assert!(f.contains("no such function: BIN2B64"), "{f}");
    assert_eq!(with(&["current"]).stdout, "");
    assert!(user_tables(&Connection::open(&db_path).unwrap()).is_empty());

    let map = p.map();
    let prof = native("authelia");
    {
        let conn = connect(Some(&db_path), prof);
        engine(&conn, &map, prof.mode).upgrade("head", &mut |_| {}).unwrap();
    }
    let cur = with(&["current"]);
    assert_eq!((cur.status, cur.stdout), (0, format!("{} (head)\n", p.head())));
    assert_eq!(with(&["history"]).stdout, expected_history(&p));
    let before = state(&Connection::open(&db_path).unwrap());

    let down = with(&["downgrade", "base"]);
    let f = failure(&down);
    assert!(f.starts_with("FAILED [MIGRATION_FAILED]: Migration ced8ed7afb63 failed at "), "{f}");
    assert!(f.contains("no such function: B642BIN"), "{f}");
    let conn = Connection::open(&db_path).unwrap();
    assert_eq!(state(&conn), before);
    integrity_ok(&conn);
    assert_eq!(with(&["current"]).stdout, format!("{} (head)\n", p.head()));
    assert_one_line_error(&up);
    assert_one_line_error(&down);
}

/// The documented atuin-scripts downgrade failure through the CLI: exit 1, the error
/// names revision, file:line and SQLite's message, and the file is unchanged.
#[test]
fn atuin_scripts_cli_downgrade_fails_at_unique_names_and_changes_nothing() {
    let p = Project::load("atuin-scripts");
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("scripts.db");
    let db = db_path.to_string_lossy().into_owned();
    let v = p.versions();
    let with = |extra: &[&str]| run_cli(&[&["--dir", v.as_str(), "--db", db.as_str()][..], extra].concat());
    assert_eq!(with(&["upgrade", "head"]).status, 0);
    let before = state(&Connection::open(&db_path).unwrap());

    let down = with(&["downgrade", "base"]);
    let f = failure(&down);
    assert!(f.starts_with("FAILED [MIGRATION_FAILED]: Migration edd312028daa failed at "), "{f}");
    assert!(f.contains("edd312028daa_unique_names.sql:12: near \"index\": syntax error"), "{f}");
    assert!(f.contains("alter table scripts drop index name_uniq_idx;"), "{f}");
    assert_eq!(state(&Connection::open(&db_path).unwrap()), before);
    assert_eq!(with(&["current"]).stdout, "edd312028daa (head)\n");
    assert_one_line_error(&down);
}
