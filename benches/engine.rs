//! `cargo bench --bench engine` (or `make bench`): prints the figures.
//! Planning on a 10,000-revision chain and a 2,000-revision DAG, and 1,000 small
//! migrations run by the engine beside the floor: the same statements executed in
//! one loop on one connection in one transaction.

use std::time::{Duration, Instant};

use athanor::core::graph::RevisionMap;
use athanor::core::plan::{plan_downgrade, plan_upgrade};
use athanor::core::script::{Script, Section};
use athanor::core::statements::split_statements;
use athanor::core::walk::Spec;
use athanor::sqlite::runner::{Engine, Options};

fn script(i: usize, parents: Vec<String>, deps: Vec<String>, up: String) -> Script {
    Script {
        id: format!("{i:012x}"),
        parents,
        branch_labels: vec![],
        depends_on: deps,
        create_date: None,
        message: format!("revision {i}"),
        upgrade: Section::new(up),
        downgrade: Some(Section::new(format!("DROP TABLE t_{i};"))),
        file_name: format!("{i:012x}_r.sql"),
        path: format!("{i:012x}_r.sql"),
    }
}

fn small_sql(i: usize) -> String {
    format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO t_{i} (name) VALUES ('row {i}');\n")
}

pub fn chain(n: usize) -> Vec<Script> {
    (0..n).map(|i| script(i, if i == 0 { vec![] } else { vec![format!("{:012x}", i - 1)] }, vec![], small_sql(i))).collect()
}

/// A DAG of `n` revisions: frequent branch points, merges of two or three heads,
/// and dependencies across branches (a fixed LCG keeps it the same every run).
pub fn dag(n: usize) -> Vec<Script> {
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut rnd = |m: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % m.max(1)
    };
    let mut heads: Vec<usize> = vec![];
    let mut out = vec![];
    for i in 0..n {
        let mut parents = vec![];
        if i > 0 {
            let roll = rnd(10);
            if roll < 2 && heads.len() >= 2 {
                // Merge two or three open heads.
                let k = 2 + rnd(2).min(heads.len() - 2);
                for _ in 0..k {
                    let h = heads.remove(rnd(heads.len()));
                    parents.push(h);
                }
            } else if roll < 4 {
                // Branch from anywhere in the recent past.
                parents.push(i - 1 - rnd(i.min(30)));
            } else if !heads.is_empty() {
                parents.push(heads.remove(rnd(heads.len())));
            }
        }
        let mut deps = vec![];
        if i > 10 && rnd(20) == 0 {
            let d = rnd(i);
            if !parents.contains(&d) {
                deps.push(d);
            }
        }
        heads.retain(|h| !parents.contains(h));
        heads.push(i);
        let ids = |v: &[usize]| v.iter().map(|p| format!("{p:012x}")).collect::<Vec<_>>();
        out.push(script(i, ids(&parents), ids(&deps), small_sql(i)));
    }
    out
}

/// One merge revision of `k` branches: bases and two-revision chains, alternately.
pub fn wide_merge(k: usize) -> Vec<Script> {
    let mut out = vec![];
    let mut parents = vec![];
    let mut i = 0;
    for b in 0..k {
        out.push(script(i, vec![], vec![], small_sql(i)));
        if b % 2 == 1 {
            out.push(script(i + 1, vec![format!("{i:012x}")], vec![], small_sql(i + 1)));
            i += 1;
        }
        parents.push(format!("{i:012x}"));
        i += 1;
    }
    out.push(script(i, parents, vec![], small_sql(i)));
    out
}

/// The deep and wide histories of issue 11 (planning was quadratic there): the map,
/// `history`, `upgrade heads` from empty and `downgrade base` from the heads, planned.
fn bench_scale(name: &str, scripts: Vec<Script>) {
    let t = Instant::now();
    let map = RevisionMap::new(scripts).expect("valid graph");
    let build = t.elapsed();
    let t = Instant::now();
    let history = map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).expect("history");
    let walk = t.elapsed();
    let t = Instant::now();
    let up = plan_upgrade(&map, &[], "heads").expect("plan");
    let upgrade = t.elapsed();
    let t = Instant::now();
    let down = plan_downgrade(&map, &up.after, "base").expect("plan");
    let downgrade = t.elapsed();
    assert_eq!((history.len(), up.steps.len(), down.steps.len()), (map.len(), map.len(), map.len()));
    println!(
        "{name:<28} build map {:>12}   history {:>12}   plan upgrade heads {:>12}   plan downgrade base {:>12}",
        ms(build),
        ms(walk),
        ms(upgrade),
        ms(downgrade)
    );
}

fn best_of(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn bench_planning(name: &str, scripts: Vec<Script>) {
    let build = best_of(5, || {
        let input = scripts.clone();
        let t = Instant::now();
        let m = RevisionMap::new(input).expect("valid graph");
        let took = t.elapsed();
        std::hint::black_box(m);
        took
    });
    let map = RevisionMap::new(scripts.clone()).expect("valid graph");
    let mut steps = 0;
    let from_empty = best_of(5, || {
        let t = Instant::now();
        let p = plan_upgrade(&map, &[], "heads").expect("plan");
        steps = p.steps.len();
        t.elapsed()
    });
    let rows = plan_upgrade(&map, &[], "heads").expect("plan").after;
    let at_head = best_of(5, || {
        let t = Instant::now();
        let p = plan_upgrade(&map, &rows, "heads").expect("plan");
        assert!(p.steps.is_empty());
        t.elapsed()
    });
    println!(
        "{name:<28} heads={:<4} build map {:>12}   plan base->heads ({steps} steps) {:>12}   plan at heads {:>12}",
        map.real_heads.len(),
        ms(build),
        ms(from_empty),
        ms(at_head)
    );
}

fn bench_execution(n: usize) {
    let scripts = chain(n);
    let map = RevisionMap::new(scripts.clone()).expect("valid chain");
    let dir = tempfile::tempdir().expect("temp dir");
    let statements: Vec<String> = scripts.iter().flat_map(|s| split_statements(&s.upgrade.sql, 1)).map(|s| s.sql).collect();
    let mut floor = Duration::MAX;
    let mut engine_time = Duration::MAX;
    for round in 0..11 {
        let path = dir.path().join(format!("floor{round}.db"));
        let conn = rusqlite::Connection::open(&path).expect("open");
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        for s in &statements {
            conn.execute_batch(s).expect("statement");
        }
        conn.execute_batch("COMMIT").expect("commit");
        floor = floor.min(t.elapsed());

        let path = dir.path().join(format!("engine{round}.db"));
        let conn = rusqlite::Connection::open(&path).expect("open");
        let engine = Engine::new(&conn, &map, Options::default());
        let t = Instant::now();
        let report = engine.upgrade("heads", &mut |_| {}).expect("upgrade");
        engine_time = engine_time.min(t.elapsed());
        assert_eq!(report.plan.steps.len(), n);
    }
    println!(
        "{n} small migrations on a file (best of 11): floor {}  engine {}  ratio {:.3}",
        ms(floor),
        ms(engine_time),
        engine_time.as_secs_f64() / floor.as_secs_f64()
    );
}

/// Parsing `n` migration files as they are written (headers, both sections) and building
/// the map: the part of every at-head check that grows with the history.
fn bench_parsing(n: usize) {
    let texts: Vec<(String, String)> = (0..n)
        .map(|i| {
            let parent = if i == 0 { String::new() } else { format!("{:012x}", i - 1) };
            let text = format!(
                "-- Revision ID: {i:012x}\n-- Revises: {parent}\n-- Create Date: 2026-11-27 10:00:00.000000\n-- Message: step {i}\n\n-- migrate:upgrade\n{}\n-- migrate:downgrade\nDROP TABLE t_{i};\n",
                small_sql(i)
            );
            (format!("{i:012x}_step_{i}.sql"), text)
        })
        .collect();
    let mut parse = Duration::MAX;
    let mut build = Duration::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let scripts: Vec<Script> = texts.iter().map(|(name, text)| athanor::core::source::from_text(name, text).expect("parse")).collect();
        parse = parse.min(t.elapsed());
        let t = Instant::now();
        RevisionMap::new(scripts).expect("map");
        build = build.min(t.elapsed());
    }
    println!("parse {n} migration files {}   build their map {}", ms(parse), ms(build));
}

/// The native CLI as a user runs it, `athanor --db FILE upgrade head` on `n` migration
/// files, beside the `sqlite3` shell running the same statements in one transaction
/// (issue 12's goal: at most 1.3x), and the CLI at head (nothing to do). Medians of 11
/// fresh processes, each on a new file.
fn bench_cli_against_shell(n: usize) {
    let Some(shell) = which("sqlite3") else {
        println!("native CLI vs the sqlite3 shell: skipped (no sqlite3 on PATH)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).expect("dir");
    let mut script_sql = String::from("BEGIN IMMEDIATE;\n");
    for s in chain(n) {
        let parent = s.parents.first().cloned().unwrap_or_default();
        let text = format!(
            "-- Revision ID: {}\n-- Revises: {parent}\n-- Message: {}\n\n-- migrate:upgrade\n{}\n-- migrate:downgrade\n{}\n",
            s.id,
            s.message,
            s.upgrade.sql,
            s.downgrade.as_ref().map(|d| d.sql.as_str()).unwrap_or("")
        );
        std::fs::write(migrations.join(&s.file_name), text).expect("write");
        script_sql.push_str(&s.upgrade.sql);
    }
    script_sql.push_str("COMMIT;\n");
    let sql_file = dir.path().join("all.sql");
    std::fs::write(&sql_file, script_sql).expect("write");
    let bin = env!("CARGO_BIN_EXE_athanor");
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let time = |cmd: &mut std::process::Command| {
        let t = Instant::now();
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        t.elapsed()
    };
    let (mut shell_t, mut cli_t, mut head_t) = (vec![], vec![], vec![]);
    for round in 0..11 {
        let db = dir.path().join(format!("shell{round}.db"));
        shell_t.push(time(std::process::Command::new(&shell).arg(&db).stdin(std::fs::File::open(&sql_file).expect("sql"))));
        let db = dir.path().join(format!("cli{round}.db"));
        let args = |c: &mut std::process::Command| {
            c.current_dir(dir.path()).arg("--dir").arg(&migrations).arg("--db").arg(&db).args(["upgrade", "head"]);
        };
        let mut c = std::process::Command::new(bin);
        args(&mut c);
        cli_t.push(time(&mut c));
        let mut c = std::process::Command::new(bin);
        args(&mut c);
        head_t.push(time(&mut c));
    }
    let (shell_m, cli_m, head_m) = (median(shell_t), median(cli_t), median(head_t));
    println!(
        "native CLI, {n} migrations on a file (median of 11 processes): sqlite3 shell {}  athanor upgrade head {}  ratio {:.2} (goal <= 1.3)   athanor at head {}",
        ms(shell_m),
        ms(cli_m),
        cli_m.as_secs_f64() / shell_m.as_secs_f64(),
        ms(head_m)
    );
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
}

fn main() {
    println!("athanor engine benchmark (best of 5, native, release)");
    bench_parsing(1_000);
    bench_planning("linear chain, 10,000", chain(10_000));
    bench_planning("DAG, 2,000 (branches+merges)", dag(2_000));
    bench_scale("linear chain, 200,000", chain(200_000));
    bench_scale("merge of 20,000 branches", wide_merge(20_000));
    bench_execution(1_000);
    bench_cli_against_shell(1_000);
}
