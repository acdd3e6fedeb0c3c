//! `cargo bench --bench autogen` (or `make bench`): autogenerate at scale. A
//! 1,000-revision history creates 200 tables and then alters them over time (columns
//! added and renamed, indexes created and dropped, tables rebuilt); the declared
//! schema differs from its result in a few dozen ways (columns, indexes, tables added
//! and dropped, defaults changed so tables are rebuilt). Timed: the whole CLI-layer
//! `revision --autogenerate` (read and parse 1,000 files, build the heads' schema in a
//! scratch database, read both schemas, diff, render, write the file), best of 5.
//! Goal: < 1 s native; < 2 s through the npm CLI (`node pkg/cli.cjs`) when pkg/ is built.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use athanor::autogen;
use athanor::cli::{run, NativeHost};
use rusqlite::Connection;

const TABLES: usize = 200;
const REVISIONS: usize = 1000;
const RUNS: usize = 5;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, m: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % m.max(1)
    }
}

fn id(i: usize) -> String {
    format!("{:012x}", 0xa0000000000usize + i)
}

/// The history's tables as they stand, to write valid migrations against.
#[derive(Clone)]
struct Table {
    columns: Vec<String>,
    /// Next column number.
    next: usize,
}

/// Revision `i`'s upgrade SQL (and a downgrade that is not exercised here).
fn history(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rnd = Lcg(0x9E3779B97F4A7C15);
    let mut tables: Vec<Table> = vec![];
    let mut indexes: Vec<(String, usize)> = vec![];
    for i in 0..REVISIONS {
        let mut up = String::new();
        if i < TABLES {
            // Tables 50 and up may reference one of the first 50 (never rebuilt or dropped).
            let fk =
                if i >= 50 && rnd.next(3) == 0 { format!(",\n    parent_id INTEGER REFERENCES t{:03}(id)", rnd.next(50)) } else { String::new() };
            up.push_str(&format!(
                "CREATE TABLE t{i:03} (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL DEFAULT '',\n    created_at INTEGER NOT NULL DEFAULT 0{fk}\n);\nCREATE INDEX ix_t{i:03}_name ON t{i:03}(name);\n"
            ));
            let mut cols = vec!["id".to_string(), "name".into(), "created_at".into()];
            if !fk.is_empty() {
                cols.push("parent_id".into());
            }
            tables.push(Table { columns: cols, next: 0 });
            indexes.push((format!("ix_t{i:03}_name"), i));
        } else {
            let t = rnd.next(TABLES);
            let tn = format!("t{t:03}");
            match rnd.next(10) {
                0..=3 => {
                    let tb = &mut tables[t];
                    let c = format!("c{}", tb.next);
                    tb.next += 1;
                    let def = if rnd.next(2) == 0 { format!("{c} TEXT") } else { format!("{c} INTEGER NOT NULL DEFAULT 0") };
                    up.push_str(&format!("ALTER TABLE {tn} ADD COLUMN {def};\n"));
                    tb.columns.push(c);
                }
                4..=5 => {
                    let col = tables[t].columns[rnd.next(tables[t].columns.len())].clone();
                    let ix = format!("ix_r{i}");
                    up.push_str(&format!("CREATE INDEX {ix} ON {tn}({col});\n"));
                    indexes.push((ix, t));
                }
                6 if indexes.len() > 1 => {
                    let (ix, _) = indexes.remove(rnd.next(indexes.len()));
                    up.push_str(&format!("DROP INDEX {ix};\n"));
                }
                7 if t >= 50 => {
                    // A hand-written rebuild, as Prisma writes them: a new column in the middle.
                    let tb = &mut tables[t];
                    let c = format!("c{}", tb.next);
                    tb.next += 1;
                    let kept = tb.columns.clone();
                    let defs: Vec<String> = kept
                        .iter()
                        .map(|k| match k.as_str() {
                            "id" => "id INTEGER PRIMARY KEY".to_string(),
                            "name" => "name TEXT NOT NULL DEFAULT ''".into(),
                            "created_at" => "created_at INTEGER NOT NULL DEFAULT 0".into(),
                            "parent_id" => "parent_id INTEGER".into(),
                            other => format!("{other} TEXT"),
                        })
                        .collect();
                    let mut all = defs.clone();
                    all.insert(1, format!("{c} TEXT NOT NULL DEFAULT 'x'"));
                    let list = kept.join(", ");
                    up.push_str(&format!(
                        "CREATE TABLE new_{tn} ({});\nINSERT INTO new_{tn} ({list}) SELECT {list} FROM {tn};\nDROP TABLE {tn};\nALTER TABLE new_{tn} RENAME TO {tn};\n",
                        all.join(", ")
                    ));
                    tb.columns.insert(1, c);
                    // The table's indexes went with it: create them again.
                    for (ix, _) in indexes.iter().filter(|(_, on)| *on == t) {
                        up.push_str(&format!("CREATE INDEX {ix} ON {tn}(id);\n"));
                    }
                }
                8 => {
                    let tb = &mut tables[t];
                    let k = tb.columns.iter().position(|c| c.len() > 1 && c.starts_with('c') && c[1..].bytes().all(|b| b.is_ascii_digit()));
                    if let Some(k) = k {
                        let old = tb.columns[k].clone();
                        let new = format!("c{}", tb.next);
                        tb.next += 1;
                        up.push_str(&format!("ALTER TABLE {tn} RENAME COLUMN {old} TO {new};\n"));
                        tb.columns[k] = new;
                    } else {
                        up.push_str(&format!("UPDATE {tn} SET name = name;\n"));
                    }
                }
                _ => up.push_str(&format!("INSERT INTO {tn} (name) VALUES ('row {i}');\n")),
            }
        }
        let parent = if i == 0 { String::new() } else { id(i - 1) };
        let text = format!(
            "-- Revision ID: {}\n-- Revises: {parent}\n-- Create Date: 2026-01-01 00:00:00\n-- Message: revision {i}\n\n-- migrate:upgrade\n{up}\n-- migrate:downgrade\n",
            id(i)
        );
        std::fs::write(dir.join(format!("{}_revision_{i}.sql", id(i))), text).unwrap();
    }
}

fn dump(conn: &Connection) -> Vec<String> {
    let mut st = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name NOT IN ('alembic_version', 'athanor_history') \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
        )
        .unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// The history's schema with a few dozen changes, written to `path`.
fn declared(versions: &Path, path: &Path) {
    let db = versions.parent().unwrap().join("head.db");
    let _ = std::fs::remove_file(&db);
    let out = run(
        &["--dir".into(), versions.to_string_lossy().into(), "--db".into(), db.to_string_lossy().into(), "upgrade".into(), "head".into()],
        &NativeHost,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let conn = Connection::open(&db).unwrap();
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut sql = String::new();
    for t in (60..180).step_by(10) {
        sql.push_str(&format!("ALTER TABLE t{t:03} ADD COLUMN declared_note TEXT;\n"));
        // 12 columns added
    }
    for t in (55..175).step_by(15) {
        sql.push_str(&format!("CREATE INDEX ix_declared_{t} ON t{t:03}(created_at);\n"));
        // 8 indexes added
    }
    for ix in indexes.iter().step_by(indexes.len() / 6).take(6) {
        sql.push_str(&format!("DROP INDEX {ix};\n")); // 6 indexes dropped
    }
    for n in 0..4 {
        sql.push_str(&format!("CREATE TABLE declared_{n} (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '');\n"));
        // 4 tables added
    }
    for t in [197, 198, 199] {
        sql.push_str(&format!("DROP TABLE t{t:03};\n")); // 3 tables dropped
    }
    conn.execute_batch(&sql).unwrap();
    let mut texts = dump(&conn);
    // 6 defaults changed: tables rebuilt.
    for t in [61, 83, 105, 127, 149, 171] {
        // A table the history rebuilt is named quoted: SQLite's RENAME writes it so.
        let heads = [format!("CREATE TABLE t{t:03} "), format!("CREATE TABLE \"t{t:03}\" ")];
        let pos = texts.iter().position(|s| heads.iter().any(|h| s.starts_with(h))).unwrap();
        assert!(texts[pos].contains("created_at INTEGER NOT NULL DEFAULT 0"), "{}", texts[pos]);
        texts[pos] = texts[pos].replacen("created_at INTEGER NOT NULL DEFAULT 0", "created_at INTEGER NOT NULL DEFAULT 1", 1);
    }
    std::fs::write(path, texts.iter().map(|t| format!("{t};\n")).collect::<String>()).unwrap();
    drop(conn);
    std::fs::remove_file(&db).unwrap();
}

fn best<F: FnMut() -> Duration>(mut f: F) -> Vec<Duration> {
    (0..RUNS).map(|_| f()).collect()
}

fn show(label: &str, runs: &[Duration], goal: Duration) {
    let b = runs.iter().min().unwrap();
    let all: Vec<String> = runs.iter().map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0)).collect();
    println!(
        "{label:<44} best {:>7.1} ms  (runs: {} ms)  goal < {} ms: {}",
        b.as_secs_f64() * 1000.0,
        all.join(", "),
        goal.as_millis(),
        if *b < goal { "met" } else { "MISSED" }
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let versions = root.join("versions");
    history(&versions);
    let schema = root.join("schema.sql");
    declared(&versions, &schema);
    let (v, s) = (versions.to_string_lossy().into_owned(), schema.to_string_lossy().into_owned());

    let check = run(&["--dir".into(), v.clone(), "--schema".into(), s.clone(), "check".into()], &NativeHost);
    assert_eq!(check.status, 1, "{}", check.stderr);
    let changes = check.stdout.lines().count();
    println!("autogenerate: {TABLES} tables, {REVISIONS} revisions, {changes} differences detected");

    let generated = versions.join(format!("{}_x.sql", "bbbbbbbbbbbb"));
    let native = best(|| {
        let argv: Vec<String> = ["--dir", &v, "--schema", &s, "revision", "--autogenerate", "-m", "x", "--rev-id", "bbbbbbbbbbbb"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        let t = Instant::now();
        let out = run(&argv, &NativeHost);
        let d = t.elapsed();
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert_eq!(out.stderr.lines().filter(|l| l.contains("Detected")).count(), changes);
        std::fs::remove_file(&generated).unwrap();
        d
    });
    show("native revision --autogenerate (CLI layer)", &native, Duration::from_secs(1));

    // Where the time goes (best of 5 each).
    let text = std::fs::read_to_string(&schema).unwrap();
    let phase = |label: &str, f: &mut dyn FnMut()| {
        let runs = best(|| {
            let t = Instant::now();
            f();
            t.elapsed()
        });
        println!("  {label:<42} best {:>7.1} ms", runs.iter().min().unwrap().as_secs_f64() * 1000.0);
    };
    phase("read + parse 1,000 files, revision map", &mut || {
        athanor::cli::commands::load_map(&NativeHost, &v).unwrap();
    });
    let map = athanor::cli::commands::load_map(&NativeHost, &v).unwrap();
    phase("heads' schema (1,000 migrations, scratch db)", &mut || {
        autogen::head_schema(&map, "alembic_version").unwrap();
    });
    // The floor: the same upgrade sections, oldest first, in one execute_batch loop on
    // one connection in one transaction (SQLite's own cost: each ALTER re-reads the schema).
    let mut ordered: Vec<String> = vec![];
    for i in 0..REVISIONS {
        let f = std::fs::read_to_string(versions.join(format!("{}_revision_{i}.sql", id(i)))).unwrap();
        let up = f.split_once("-- migrate:upgrade\n").unwrap().1.split_once("-- migrate:downgrade").unwrap().0;
        ordered.push(up.to_string());
    }
    phase("  floor: same SQL, execute_batch, 1 tx", &mut || {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN").unwrap();
        for up in &ordered {
            conn.execute_batch(up).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    });
    phase("declared schema (schema.sql, scratch db)", &mut || {
        autogen::schema_of_sql("schema.sql", &text).unwrap();
    });
    let (cur, dec) = (autogen::head_schema(&map, "alembic_version").unwrap(), autogen::schema_of_sql("schema.sql", &text).unwrap());
    phase("diff + render", &mut || {
        autogen::generate(&cur, &dec).unwrap();
    });

    let cli = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pkg").join("cli.cjs");
    let node_ok = Command::new("node").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !cli.exists() || !node_ok {
        println!("{:<44} skipped: pkg/ not built", "npm CLI revision --autogenerate");
        return;
    }
    // A project as a user has it: relative paths from its own directory.
    let npm = best(|| {
        let t = Instant::now();
        let out = Command::new("node")
            .arg(&cli)
            .args(["--dir", "versions", "--schema", "schema.sql", "revision", "--autogenerate", "-m", "x", "--rev-id", "bbbbbbbbbbbb"])
            .current_dir(&root)
            .output()
            .unwrap();
        let d = t.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(stderr.lines().filter(|l| l.contains("Detected")).count(), changes, "{stderr}");
        std::fs::remove_file(&generated).unwrap();
        d
    });
    show("npm CLI revision --autogenerate (node)", &npm, Duration::from_secs(2));
}
