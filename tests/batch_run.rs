//! The run as batches (D1, libSQL: `core::batch`), each batch executed here as one
//! transaction on a real SQLite: the same database, row for row, as the embedded
//! engine's run; guards that refuse a batch once another migrator moved the version
//! table; a failure that leaves the database as it was.

use athanor::core::hash::HashMap;

use athanor::core::batch::{batch_run, Batch, Seen};
use athanor::core::error::{Error, Result};
use athanor::core::graph::RevisionMap;
use athanor::core::plan::{self, Plan};
use athanor::core::run::{Options, TransactionMode};
use athanor::core::source::from_text;
use athanor::sqlite::runner::Engine;
use rusqlite::Connection;

fn example() -> RevisionMap {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/example/migrations");
    let mut scripts = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        scripts.push(athanor::core::script::parse_bytes(&name, &p.to_string_lossy(), &std::fs::read(&p).unwrap()).unwrap());
    }
    RevisionMap::new(scripts).unwrap()
}

/// A chain of five; the third fails when `broken`, the fourth runs outside the
/// transaction when `outside`.
fn five(broken: bool, outside: bool) -> RevisionMap {
    let scripts = (1..=5)
        .map(|i| {
            let parent = if i == 1 { String::new() } else { format!("rev000{}", i - 1) };
            let up = if i == 3 && broken {
                "INSERT INTO t1 VALUES (1);\nINSERT INTO nowhere VALUES (1);".to_string()
            } else {
                format!("CREATE TABLE t{i} (x);")
            };
            let marker = if i == 4 && outside { "-- migrate:upgrade transaction:false" } else { "-- migrate:upgrade" };
            from_text(
                &format!("rev000{i}_step.sql"),
                &format!("-- Revision ID: rev000{i}\n-- Revises: {parent}\n\n{marker}\n{up}\n\n-- migrate:downgrade\nDROP TABLE IF EXISTS t{i};\n"),
            )
            .unwrap()
        })
        .collect();
    RevisionMap::new(scripts).unwrap()
}

fn options(per_migration: bool) -> Options {
    Options { transaction: if per_migration { TransactionMode::PerMigration } else { TransactionMode::All }, ..Options::default() }
}

/// What the adapters read before a run: `None` for a table that does not exist.
fn seen(conn: &Connection) -> Seen {
    let exists = |t: &str| conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [t], |r| r.get::<_, i64>(0)).unwrap() > 0;
    let rows = exists("alembic_version").then(|| athanor::sqlite::version_table::read_rows(conn, "alembic_version").unwrap());
    let history = exists("athanor_history").then(|| {
        let mut st = conn.prepare("SELECT revision, checksum FROM athanor_history WHERE version_table = 'alembic_version'").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<rusqlite::Result<HashMap<String, String>>>().unwrap()
    });
    Seen { rows, history }
}

/// Sends each part as one transaction, as D1's `batch()` runs it; on a failure, the
/// part and statement that failed (that part rolled back, the ones before kept).
fn execute(conn: &Connection, batch: &Batch) -> std::result::Result<(), (usize, usize, String)> {
    for (p, part) in batch.parts.iter().enumerate() {
        conn.execute_batch("BEGIN").unwrap();
        for (s, st) in part.statements.iter().enumerate() {
            let result = conn.prepare(&st.sql).and_then(|mut prepared| {
                let mut rows = prepared.query(rusqlite::params_from_iter(&st.params))?;
                while rows.next()?.is_some() {}
                Ok(())
            });
            if let Err(e) = result {
                conn.execute_batch("ROLLBACK").unwrap();
                return Err((p, s, e.to_string()));
            }
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    Ok(())
}

/// Everything a run leaves: the schema, the version table's rows in order, and the
/// recorded checksums (not their times).
fn state(conn: &Connection) -> Vec<String> {
    let mut out = vec![];
    let mut st = conn.prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name").unwrap();
    out.extend(st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap));
    for (table, sql) in [
        ("alembic_version", "SELECT 'row ' || version_num FROM alembic_version ORDER BY rowid"),
        ("athanor_history", "SELECT 'history ' || revision || ' ' || checksum FROM athanor_history ORDER BY revision"),
    ] {
        if athanor::sqlite::version_table::table_exists(conn, table).unwrap() {
            let mut st = conn.prepare(sql).unwrap();
            out.extend(st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap));
        }
    }
    out
}

enum Op<'a> {
    Up(&'a str),
    Down(&'a str),
    Stamp(&'a [&'a str], bool),
}

fn planner<'a>(map: &'a RevisionMap, op: &'a Op, targets: &'a [String]) -> impl Fn(&[String]) -> Result<Plan> + 'a {
    move |rows: &[String]| match op {
        Op::Up(t) => plan::plan_upgrade(map, rows, t),
        Op::Down(t) => plan::plan_downgrade(map, rows, t),
        Op::Stamp(_, purge) => plan::plan_stamp(map, rows, targets, *purge),
    }
}

/// `op` as batches on `batched` and through the engine on `engine`.
fn both(map: &RevisionMap, op: &Op, per_migration: bool, batched: &Connection, engine: &Connection) -> Batch {
    let targets: Vec<String> = match op {
        Op::Stamp(t, _) => t.iter().map(|s| s.to_string()).collect(),
        _ => vec![],
    };
    let planner = planner(map, op, &targets);
    let verify = !matches!(op, Op::Stamp(..));
    let batch = batch_run(map, &options(per_migration), seen(batched), verify, &planner).unwrap();
    execute(batched, &batch).unwrap();
    let e = Engine::new(engine, map, options(per_migration));
    match op {
        Op::Up(t) => e.upgrade(t, &mut |_| {}).unwrap(),
        Op::Down(t) => e.downgrade(t, &mut |_| {}).unwrap(),
        Op::Stamp(_, purge) => e.stamp(&targets, *purge).unwrap(),
    };
    batch
}

#[test]
fn batches_leave_the_database_the_engine_leaves_in_both_transaction_modes() {
    let map = example();
    for per_migration in [false, true] {
        let (batched, engine) = (Connection::open_in_memory().unwrap(), Connection::open_in_memory().unwrap());
        let ops = [
            Op::Up("heads"),
            Op::Down("-1"),
            Op::Up("heads"),
            Op::Down("base"),
            Op::Stamp(&["heads"], false),
            Op::Stamp(&["base"], true),
            Op::Up("3c4d5e6f7a8b"),
            Op::Stamp(&["5e6f7a8b9c0d"], false),
            Op::Up("heads"),
            Op::Stamp(&["heads"], true),
        ];
        for (i, op) in ops.iter().enumerate() {
            let batch = both(&map, op, per_migration, &batched, &engine);
            assert_eq!(state(&batched), state(&engine), "after op {i}, per migration: {per_migration}");
            let steps = batch.report.plan.steps.len();
            if per_migration && steps > 0 && !matches!(op, Op::Stamp(..)) {
                assert_eq!(batch.parts.len(), steps, "a batch per migration (op {i})");
            } else if steps > 0 {
                assert_eq!(batch.parts.len(), 1, "one batch (op {i})");
            }
            // Every step is in exactly one part, in order.
            let covered: Vec<usize> = batch.parts.iter().flat_map(|p| p.steps.clone()).collect();
            assert_eq!(covered, (0..steps).collect::<Vec<_>>(), "op {i}");
        }
    }
}

#[test]
fn at_head_there_is_no_batch() {
    let map = example();
    let conn = Connection::open_in_memory().unwrap();
    Engine::new(&conn, &map, Options::default()).upgrade("heads", &mut |_| {}).unwrap();
    let batch = batch_run(&map, &Options::default(), seen(&conn), true, &|rows| plan::plan_upgrade(&map, rows, "heads")).unwrap();
    assert!(batch.parts.is_empty());
}

#[test]
fn the_guard_refuses_a_batch_once_another_migrator_moved_the_version_table() {
    let map = five(false, false);
    // A fresh database: two Workers plan from "no table"; the second batch is refused
    // whole, and its plan from what the first left is empty.
    let conn = Connection::open_in_memory().unwrap();
    let up = |rows: &[String]| plan::plan_upgrade(&map, rows, "heads");
    let first = batch_run(&map, &Options::default(), seen(&conn), true, &up).unwrap();
    let second = batch_run(&map, &Options::default(), seen(&conn), true, &up).unwrap();
    execute(&conn, &first).unwrap();
    let done = state(&conn);
    let (part, statement, message) = execute(&conn, &second).unwrap_err();
    assert_eq!((part, statement), (0, 0), "{message}");
    assert_eq!(state(&conn), done);
    assert!(batch_run(&map, &Options::default(), seen(&conn), true, &up).unwrap().parts.is_empty());

    // An existing table: a batch planned at rev0002 is refused once another migrator
    // moved it to rev0003, and nothing of it is applied.
    let conn = Connection::open_in_memory().unwrap();
    let engine = Engine::new(&conn, &map, Options::default());
    engine.upgrade("rev0002", &mut |_| {}).unwrap();
    let stale = batch_run(&map, &Options::default(), seen(&conn), true, &up).unwrap();
    engine.upgrade("rev0003", &mut |_| {}).unwrap();
    let moved = state(&conn);
    assert_eq!(execute(&conn, &stale).unwrap_err().0, 0);
    assert_eq!(state(&conn), moved);
}

#[test]
fn a_failing_migration_leaves_the_database_as_it_was_or_at_the_last_batch_per_migration() {
    let map = five(true, false);
    let up = |rows: &[String]| plan::plan_upgrade(&map, rows, "heads");
    let conn = Connection::open_in_memory().unwrap();
    let batch = batch_run(&map, &Options::default(), seen(&conn), true, &up).unwrap();
    let (part, statement, message) = execute(&conn, &batch).unwrap_err();
    assert!(message.contains("no such table: nowhere"), "{message}");
    let failed = &batch.parts[part].statements[statement];
    let origin = failed.origin.as_ref().expect("a migration statement");
    assert_eq!((origin.revision.as_str(), origin.line, origin.code.as_str()), ("rev0003", 6, "INSERT INTO nowhere VALUES (1);"));
    assert!(state(&conn).is_empty(), "nothing of the run: {:?}", state(&conn));

    let batch = batch_run(&map, &options(true), seen(&conn), true, &up).unwrap();
    let (part, _, _) = execute(&conn, &batch).unwrap_err();
    assert_eq!(part, 2);
    assert_eq!(athanor::sqlite::version_table::read_rows(&conn, "alembic_version").unwrap(), ["rev0002"]);
}

#[test]
fn a_transaction_false_section_and_its_version_row_are_one_batch_of_their_own() {
    let map = five(false, true);
    let conn = Connection::open_in_memory().unwrap();
    let engine = Connection::open_in_memory().unwrap();
    let batch = both(&map, &Op::Up("heads"), false, &conn, &engine);
    let steps: Vec<Vec<usize>> = batch.parts.iter().map(|p| p.steps.clone()).collect();
    assert_eq!(steps, [vec![0, 1, 2], vec![3], vec![4]]);
    assert_eq!(state(&conn), state(&engine));
}

#[test]
fn an_edited_applied_migration_is_refused_before_any_batch() {
    let map = five(false, false);
    let conn = Connection::open_in_memory().unwrap();
    Engine::new(&conn, &map, Options::default()).upgrade("rev0002", &mut |_| {}).unwrap();
    conn.execute("UPDATE athanor_history SET checksum = 'x' WHERE revision = 'rev0001'", []).unwrap();
    let err = batch_run(&map, &Options::default(), seen(&conn), true, &|rows| plan::plan_upgrade(&map, rows, "heads")).unwrap_err();
    assert!(matches!(&err, Error::ChecksumMismatch { revision, .. } if revision == "rev0001"), "{err:?}");
}
