//! Properties of the revision map and the planner over random revision DAGs, checked on
//! the pure planner and then for real on an in-memory SQLite through the Engine.
//!
//! The graphs: up to 12 revisions, each revising 0..=2 earlier ones and depending on
//! 0..=2 earlier revisions of other branches, with random 12-hex ids and a file-name order
//! unrelated to creation order. One restriction: the revisions a revision revises or
//! depends on never descend from one another. Alembic itself breaks without it (a merge
//! whose parent is an ancestor of its other parent or dependency makes `HeadMaintainer`
//! delete a row twice: KeyError), so no property could be checked against it there.
//! Every property below held for real Alembic 1.20.1 on 1,600 graphs of this family.

use std::collections::{BTreeMap, BTreeSet};

use athanor::core::graph::RevisionMap;
use athanor::core::plan::{plan_downgrade, plan_upgrade, plan_upgrade_walk, Plan, StepKind, VersionOp};
use athanor::core::script::{parse, Script};
use athanor::core::walk::Spec;
use athanor::sqlite::runner::{Engine, Event, Options};
use proptest::prelude::*;
use proptest::sample::Index;
use rusqlite::Connection;

// ---------------------------------------------------------------------------------------
// random graphs

/// The random choices for one revision; `build` turns them into a valid revision.
#[derive(Debug, Clone)]
struct Raw {
    parents: usize,
    p: [Index; 2],
    deps: usize,
    d: [Index; 2],
    id: u64,
    file_salt: u16,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        prop::sample::select(vec![0usize, 1, 1, 1, 2, 2]),
        any::<[Index; 2]>(),
        prop::sample::select(vec![0usize, 0, 0, 1, 1, 2]),
        any::<[Index; 2]>(),
        any::<u64>(),
        any::<u16>(),
    )
        .prop_map(|(parents, p, deps, d, id, file_salt)| Raw { parents, p, deps, d, id, file_salt })
}

#[derive(Debug, Clone)]
struct Graph {
    ids: Vec<String>,
    parents: Vec<Vec<usize>>,
    deps: Vec<Vec<usize>>,
    files: Vec<String>,
    /// Where the scripts list given to `RevisionMap::new` starts (its order must not matter).
    rotate: usize,
}

impl Graph {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn down(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.parents[i].iter().chain(&self.deps[i]).copied()
    }
    /// `targets` and everything they revise or depend on, transitively.
    fn closure(&self, targets: impl IntoIterator<Item = usize>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<usize> = targets.into_iter().collect();
        while let Some(x) = todo.pop() {
            if out.insert(x) {
                todo.extend(self.down(x));
            }
        }
        out
    }
    /// `roots` and everything that revises or depends on them, transitively.
    fn descendants(&self, roots: impl IntoIterator<Item = usize>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<usize> = roots.into_iter().collect();
        while let Some(x) = todo.pop() {
            if out.insert(x) {
                todo.extend((0..self.len()).filter(|&c| self.down(c).any(|d| d == x)));
            }
        }
        out
    }
    fn children(&self, i: usize) -> Vec<usize> {
        (0..self.len()).filter(|&c| self.parents[c].contains(&i)).collect()
    }
    fn has_dependents(&self, i: usize) -> bool {
        (0..self.len()).any(|c| self.deps[c].contains(&i))
    }
    fn real_heads(&self) -> BTreeSet<String> {
        (0..self.len()).filter(|&i| self.children(i).is_empty() && !self.has_dependents(i)).map(|i| self.ids[i].clone()).collect()
    }
    fn index(&self, id: &str) -> usize {
        self.ids.iter().position(|x| x == id).unwrap()
    }
    fn names(&self, set: &BTreeSet<usize>) -> BTreeSet<String> {
        set.iter().map(|&i| self.ids[i].clone()).collect()
    }

    fn scripts(&self, with_sql: bool) -> Vec<Script> {
        let n = self.len();
        (0..n)
            .map(|k| (k + self.rotate) % n)
            .map(|i| {
                let id = &self.ids[i];
                let list = |v: &[usize]| v.iter().map(|&j| self.ids[j].as_str()).collect::<Vec<_>>().join(", ");
                let mut text = format!("-- Revision ID: {id}\n-- Revises: {}\n", list(&self.parents[i]));
                if !self.deps[i].is_empty() {
                    text += &format!("-- Depends On: {}\n", list(&self.deps[i]));
                }
                if with_sql {
                    text += &format!(
                        "\n-- migrate:upgrade\nCREATE TABLE t_{id} (x);\nINSERT INTO log (rev) VALUES ('{id}');\n\n\
                         -- migrate:downgrade\nDROP TABLE t_{id};\nINSERT INTO log (rev) VALUES ('-{id}');\n"
                    );
                } else {
                    text += "\n-- migrate:upgrade\n\n-- migrate:downgrade\n";
                }
                parse(&self.files[i], &self.files[i], &text).unwrap()
            })
            .collect()
    }
    fn map(&self) -> RevisionMap {
        RevisionMap::new(self.scripts(false)).unwrap()
    }
}

fn build(raws: Vec<Raw>, rotate: usize) -> Graph {
    let mut g = Graph { ids: vec![], parents: vec![], deps: vec![], files: vec![], rotate };
    // full[i]: everything i revises or depends on, transitively (without i)
    let mut full: Vec<BTreeSet<usize>> = vec![];
    for (i, r) in raws.into_iter().enumerate() {
        // no element of `set` may descend from another: Alembic's precondition (see top)
        let unrelated = |set: &[usize], full: &[BTreeSet<usize>]| {
            set.iter().all(|&a| set.iter().all(|&b| a == b || (!full[a].contains(&b) && !full[b].contains(&a))))
        };
        let mut parents: Vec<usize> = vec![];
        if i > 0 {
            for idx in r.p.iter().take(r.parents) {
                let p = idx.index(i);
                let mut with = parents.clone();
                with.push(p);
                if !parents.contains(&p) && unrelated(&with, &full) {
                    parents = with;
                }
            }
        }
        let mut deps: Vec<usize> = vec![];
        for idx in r.d.iter().take(r.deps) {
            let linked: Vec<usize> = parents.iter().chain(&deps).copied().collect();
            let candidates: Vec<usize> = (0..i)
                .filter(|&j| !linked.contains(&j))
                .filter(|&j| {
                    let mut with = linked.clone();
                    with.push(j);
                    unrelated(&with, &full)
                })
                .collect();
            if !candidates.is_empty() {
                deps.push(candidates[idx.index(candidates.len())]);
            }
        }
        let mut id = r.id & 0xffff_ffff_ffff;
        while g.ids.contains(&format!("{id:012x}")) {
            id = (id + 1) & 0xffff_ffff_ffff;
        }
        let id = format!("{id:012x}");
        let mut f: BTreeSet<usize> = BTreeSet::new();
        for &d in parents.iter().chain(&deps) {
            f.insert(d);
            f.extend(full[d].iter().copied());
        }
        full.push(f);
        g.files.push(format!("{:04x}_{id}.sql", r.file_salt));
        g.ids.push(id);
        g.parents.push(parents);
        g.deps.push(deps);
    }
    g
}

fn graph() -> impl Strategy<Value = Graph> {
    (prop::collection::vec(raw(), 1..=12), any::<usize>()).prop_map(|(raws, rot)| {
        let n = raws.len();
        build(raws, rot % n)
    })
}

// ---------------------------------------------------------------------------------------
// checking plans

/// Replays the version-table changes (UPDATE/DELETE must hit exactly one row, INSERT
/// must not duplicate one) and checks they end at the plan's rows.
fn check_ops(plan: &Plan) -> Result<(), TestCaseError> {
    let mut rows = plan.before.clone();
    for op in plan.steps.iter().flat_map(|s| &s.ops) {
        match op {
            VersionOp::Insert(x) => {
                prop_assert!(!rows.contains(x), "INSERT {} duplicates a row of {:?}", x, rows);
                rows.push(x.clone());
            }
            VersionOp::Delete(x) => {
                let at = rows.iter().position(|r| r == x);
                prop_assert!(at.is_some(), "DELETE {} matches no row of {:?}", x, rows);
                rows.remove(at.unwrap());
            }
            VersionOp::Update { from, to } => {
                prop_assert!(!rows.contains(to), "UPDATE to {} duplicates a row of {:?}", to, rows);
                let at = rows.iter().position(|r| r == from);
                prop_assert!(at.is_some(), "UPDATE {} matches no row of {:?}", from, rows);
                rows[at.unwrap()] = to.clone();
            }
        }
    }
    prop_assert_eq!(&rows, &plan.after);
    Ok(())
}

/// The revisions a plan runs, in order, checked to be all upgrades or all downgrades.
fn steps(map: &RevisionMap, plan: &Plan, upgrade: bool) -> Result<Vec<String>, TestCaseError> {
    let mut out = vec![];
    for s in &plan.steps {
        match (s.kind, upgrade) {
            (StepKind::Upgrade(i), true) | (StepKind::Downgrade(i), false) => out.push(map.id(i).to_string()),
            (kind, _) => prop_assert!(false, "unexpected step {:?}", kind),
        }
    }
    Ok(out)
}

/// Each revision in `order` once, and (`upgrade`) after / (downgrade) before everything
/// it revises or depends on that is also in `order`.
fn check_order(g: &Graph, order: &[String], upgrade: bool) -> Result<(), TestCaseError> {
    let pos: BTreeMap<&str, usize> = order.iter().enumerate().map(|(k, id)| (id.as_str(), k)).collect();
    prop_assert_eq!(pos.len(), order.len(), "a revision runs twice: {:?}", order);
    for id in order {
        let i = g.index(id);
        for d in g.down(i) {
            if let Some(&pd) = pos.get(g.ids[d].as_str()) {
                let pi = pos[id.as_str()];
                if upgrade {
                    prop_assert!(pd < pi, "{} runs before {}, which it needs: {:?}", id, g.ids[d], order);
                } else {
                    prop_assert!(pd > pi, "{} is undone after {}, which needs it: {:?}", g.ids[d], id, order);
                }
            }
        }
    }
    Ok(())
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// What a set of version-table rows says is applied.
fn applied(g: &Graph, rows: &[String]) -> BTreeSet<String> {
    g.names(&g.closure(rows.iter().map(|r| g.index(r))))
}

fn all(g: &Graph) -> BTreeSet<String> {
    g.ids.iter().cloned().collect()
}

// ---------------------------------------------------------------------------------------
// the map

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn heads_and_bases_are_the_nodes_without_children_or_parents(g in graph()) {
        let map = g.map();
        let names = |v: &[usize]| v.iter().map(|&i| map.id(i).to_string()).collect::<BTreeSet<_>>();
        let heads: BTreeSet<String> = (0..g.len()).filter(|&i| g.children(i).is_empty()).map(|i| g.ids[i].clone()).collect();
        let bases: BTreeSet<String> = (0..g.len()).filter(|&i| g.parents[i].is_empty()).map(|i| g.ids[i].clone()).collect();
        prop_assert_eq!(names(&map.heads), heads);
        prop_assert_eq!(names(&map.real_heads), g.real_heads());
        prop_assert_eq!(names(&map.bases), bases);
        // listed in load order, i.e. sorted file-name order
        for list in [&map.heads, &map.real_heads, &map.bases] {
            let files: Vec<&str> = list.iter().map(|&i| map.node(i).script.file_name.as_str()).collect();
            prop_assert!(files.windows(2).all(|w| w[0] < w[1]), "not in load order: {:?}", files);
        }
        for i in 0..map.len() {
            let n = map.node(i);
            prop_assert_eq!(n.next.is_empty(), map.heads.contains(&i));
            prop_assert_eq!(n.all_next.is_empty(), map.real_heads.contains(&i));
        }
    }

    /// `upgrade heads` (and `head`) from rows that are exactly the heads, in any order,
    /// with a revision from elsewhere in the history or a row repeated: the at-heads
    /// shortcut answers what the full walk answers, errors included.
    #[test]
    fn the_at_heads_shortcut_is_the_walk(g in graph(), turn in any::<usize>(), extra in any::<Index>()) {
        let map = g.map();
        let mut heads: Vec<String> = map.real_heads.iter().map(|&i| map.id(i).to_string()).collect();
        let n = heads.len();
        heads.rotate_left(turn % n);
        let other = map.id(extra.index(map.len())).to_string();
        let mut repeated = heads.clone();
        repeated.push(heads[0].clone());
        let mut with_other = heads.clone();
        with_other.push(other);
        for rows in [heads.clone(), heads[1..].to_vec(), repeated, with_other] {
            for target in ["heads", "head"] {
                let fast = plan_upgrade(&map, &rows, target);
                let walk = plan_upgrade_walk(&map, &rows, target);
                prop_assert_eq!(format!("{fast:?}"), format!("{walk:?}"), "rows {:?}, target {}", rows, target);
            }
        }
    }

    #[test]
    fn history_order_puts_every_revision_above_what_it_needs(g in graph()) {
        let map = g.map();
        let newest_first = map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).unwrap();
        let mut order: Vec<String> = newest_first.iter().map(|&i| map.id(i).to_string()).collect();
        order.reverse();
        prop_assert_eq!(set(&order), all(&g));
        check_order(&g, &order, true)?;
    }

    // (a) and (b)
    #[test]
    fn upgrade_heads_then_downgrade_base(g in graph()) {
        let map = g.map();
        let up = plan_upgrade(&map, &[], "heads").unwrap();
        check_ops(&up)?;
        let order = steps(&map, &up, true)?;
        prop_assert_eq!(set(&order), all(&g));
        check_order(&g, &order, true)?;
        prop_assert_eq!(set(&up.after), g.real_heads());
        prop_assert_eq!(up.after.len(), g.real_heads().len(), "duplicate rows: {:?}", up.after);
        // nothing left to do
        prop_assert!(plan_upgrade(&map, &up.after, "heads").unwrap().steps.is_empty());

        let down = plan_downgrade(&map, &up.after, "base").unwrap();
        check_ops(&down)?;
        let order = steps(&map, &down, false)?;
        prop_assert_eq!(set(&order), all(&g));
        check_order(&g, &order, false)?;
        prop_assert!(down.after.is_empty(), "rows left: {:?}", down.after);
    }

    // (c) from empty: `upgrade X` applies exactly X and what it needs; `downgrade base`
    // undoes exactly that.
    #[test]
    fn upgrade_one_revision_then_downgrade_base(g in graph(), x in any::<Index>()) {
        let map = g.map();
        let x = x.index(g.len());
        let up = plan_upgrade(&map, &[], &g.ids[x]).unwrap();
        check_ops(&up)?;
        let order = steps(&map, &up, true)?;
        let needed = g.names(&g.closure([x]));
        prop_assert_eq!(set(&order), needed.clone());
        check_order(&g, &order, true)?;
        prop_assert_eq!(applied(&g, &up.after), needed.clone());
        let down = plan_downgrade(&map, &up.after, "base").unwrap();
        check_ops(&down)?;
        let order = steps(&map, &down, false)?;
        prop_assert_eq!(set(&order), needed);
        check_order(&g, &order, false)?;
        prop_assert!(down.after.is_empty());
    }

    // (c) from the top: `downgrade Y` after `upgrade heads` undoes exactly what stands on
    // Y's children (through parents or dependencies), and comes back to the rows of
    // `upgrade Y` when nothing else was applied; `upgrade heads` then redoes exactly that.
    #[test]
    fn downgrade_to_a_revision_after_upgrade_heads(g in graph(), y in any::<Index>()) {
        let map = g.map();
        let y = y.index(g.len());
        let at_y = plan_upgrade(&map, &[], &g.ids[y]).unwrap().after;
        let top = plan_upgrade(&map, &at_y, "heads").unwrap();
        check_ops(&top)?;
        prop_assert_eq!(applied(&g, &top.after), all(&g));
        let children = g.children(y);
        let result = plan_downgrade(&map, &top.after, &g.ids[y]);
        if children.is_empty() && !top.after.contains(&g.ids[y]) {
            // Y is a head only through a dependency: it is not a row, and nothing above it
            // can be dropped (Alembic: "... is not a valid downgrade target").
            let e = result.unwrap_err();
            prop_assert_eq!(e.code(), "INVALID_TARGET");
            prop_assert_eq!(e.to_string(), format!("Destination {} is not a valid downgrade target from current head(s)", g.ids[y]));
            return Ok(());
        }
        let down = result.unwrap();
        check_ops(&down)?;
        let removed = g.names(&g.descendants(children));
        let order = steps(&map, &down, false)?;
        prop_assert_eq!(set(&order), removed.clone());
        check_order(&g, &order, false)?;
        let kept: BTreeSet<String> = all(&g).difference(&removed).cloned().collect();
        prop_assert_eq!(applied(&g, &down.after), kept.clone());
        if kept == applied(&g, &at_y) {
            prop_assert_eq!(set(&down.after), set(&at_y));
        }
        let again = plan_upgrade(&map, &down.after, "heads").unwrap();
        check_ops(&again)?;
        let order = steps(&map, &again, true)?;
        prop_assert_eq!(set(&order), removed);
        check_order(&g, &order, true)?;
        prop_assert_eq!(set(&again.after), g.real_heads());
    }
}

// ---------------------------------------------------------------------------------------
// (d) for real, on SQLite

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE log (n INTEGER PRIMARY KEY, rev TEXT NOT NULL)").unwrap();
    conn
}

fn t_tables(conn: &Connection) -> BTreeSet<String> {
    let mut st = conn.prepare("SELECT substr(name, 3) FROM sqlite_master WHERE type = 'table' AND name LIKE 't\\_%' ESCAPE '\\'").unwrap();
    let names = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
    names.collect::<Result<_, _>>().unwrap()
}

/// The log entries written since entry `after`, oldest first.
fn log_since(conn: &Connection, after: i64) -> Vec<String> {
    let mut st = conn.prepare("SELECT rev FROM log WHERE n > ?1 ORDER BY n").unwrap();
    let rows = st.query_map([after], |r| r.get::<_, String>(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn log_len(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM log", [], |r| r.get(0)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_upgrade_heads_then_downgrade_base(g in graph(), x in any::<Index>()) {
        let map = RevisionMap::new(g.scripts(true)).unwrap();
        let conn = db();
        let engine = Engine::new(&conn, &map, Options::default());
        let mut events = 0;
        let report = engine.upgrade("heads", &mut |_e: &Event| events += 1).unwrap();
        prop_assert_eq!(events, 2 * report.plan.steps.len(), "a start and a finish event per step");
        // the log holds each id once, in an order that respects every edge, and is the plan
        let up = log_since(&conn, 0);
        prop_assert_eq!(set(&up), all(&g));
        check_order(&g, &up, true)?;
        prop_assert_eq!(&up, &steps(&map, &report.plan, true)?);
        prop_assert_eq!(t_tables(&conn), all(&g));
        let rows = engine.current_rows().unwrap();
        prop_assert_eq!(set(&rows), g.real_heads());
        prop_assert_eq!(&rows, &report.plan.after);

        let mark = log_len(&conn);
        engine.downgrade("base", &mut |_| {}).unwrap();
        let down: Vec<String> = log_since(&conn, mark).iter().map(|r| r.trim_start_matches('-').to_string()).collect();
        prop_assert_eq!(set(&down), all(&g));
        check_order(&g, &down, false)?;
        prop_assert!(t_tables(&conn).is_empty(), "tables left: {:?}", t_tables(&conn));
        prop_assert!(engine.current_rows().unwrap().is_empty());

        // and one revision up, then back to empty
        let x = x.index(g.len());
        engine.upgrade(&g.ids[x], &mut |_| {}).unwrap();
        let needed = g.names(&g.closure([x]));
        prop_assert_eq!(t_tables(&conn), needed.clone());
        prop_assert_eq!(applied(&g, &engine.current_rows().unwrap()), needed);
        engine.downgrade("base", &mut |_| {}).unwrap();
        prop_assert!(t_tables(&conn).is_empty());
        prop_assert!(engine.current_rows().unwrap().is_empty());
    }
}
