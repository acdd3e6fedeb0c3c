//! The revision map and the planner on tricky graphs, one section per graph shape.
//!
//! Every expected trace below is what Alembic 1.20.1 did on the same graph (run through
//! tests/alembic/twin.py with triggers on `alembic_version` recording each INSERT, UPDATE
//! and DELETE between the migrations). Where Alembic's choice depends on Python's hash
//! seed (which parent row an un-merge updates and which it re-inserts), the expected trace
//! lists the alternatives as `{a|b}`: any of them is Alembic's behaviour.
//!
//! Trace format: `rev` = upgrade of rev, `-rev` = downgrade of rev, then that step's
//! version-table changes: `ins x`, `del x`, `upd old>new`.

use athanor::core::graph::RevisionMap;
use athanor::core::plan::{plan_downgrade, plan_stamp, plan_upgrade, Plan, StepKind, VersionOp};
use athanor::core::script::{parse, Script};
use athanor::core::target::Pos;
use athanor::core::walk::Spec;
use athanor::Error;

// ---------------------------------------------------------------------------------------
// helpers

/// One revision per line: `ID [< PARENT ...] [@LABEL ...] [&DEPENDS_ON ...] [!irreversible]`.
/// Each line becomes a real migration file (`<id>_m.sql`) and goes through the parser.
fn scripts(spec: &str) -> Result<Vec<Script>, Error> {
    let mut out = Vec::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut toks = line.split_whitespace();
        let id = toks.next().unwrap();
        let (mut parents, mut labels, mut deps, mut reversible) = (vec![], vec![], vec![], true);
        for t in toks {
            match t {
                "<" => {}
                "!irreversible" => reversible = false,
                _ if t.starts_with('@') => labels.push(&t[1..]),
                _ if t.starts_with('&') => deps.push(&t[1..]),
                _ => parents.push(t),
            }
        }
        let mut text = format!("-- Revision ID: {id}\n-- Revises: {}\n", parents.join(", "));
        if !labels.is_empty() {
            text += &format!("-- Branch Labels: {}\n", labels.join(", "));
        }
        if !deps.is_empty() {
            text += &format!("-- Depends On: {}\n", deps.join(", "));
        }
        text += &format!("-- Message: {id}\n\n-- migrate:upgrade\nCREATE TABLE t_{id} (x);\n");
        if reversible {
            text += &format!("\n-- migrate:downgrade\nDROP TABLE t_{id};\n");
        }
        let file = format!("{id}_m.sql");
        out.push(parse(&file, &format!("migrations/{file}"), &text)?);
    }
    Ok(out)
}

fn try_map(spec: &str) -> Result<RevisionMap, Error> {
    RevisionMap::new(scripts(spec)?)
}

fn map(spec: &str) -> RevisionMap {
    try_map(spec).unwrap_or_else(|e| panic!("graph should load: {e}"))
}

fn names(map: &RevisionMap, idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| map.id(i).to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn trace(map: &RevisionMap, plan: &Plan) -> String {
    let mut t = Vec::new();
    for s in &plan.steps {
        match s.kind {
            StepKind::Upgrade(i) => t.push(map.id(i).to_string()),
            StepKind::Downgrade(i) => t.push(format!("-{}", map.id(i))),
            StepKind::Stamp => {}
        }
        for op in &s.ops {
            t.push(match op {
                VersionOp::Insert(x) => format!("ins {x}"),
                VersionOp::Delete(x) => format!("del {x}"),
                VersionOp::Update { from, to } => format!("upd {from}>{to}"),
            });
        }
    }
    t.join(" ")
}

/// Replays the plan's version-table changes on `before`, as SQLite would (an UPDATE keeps
/// the row's place, an INSERT goes last), checking that every UPDATE/DELETE hits exactly
/// one row and no INSERT duplicates one; the result must be the plan's `after`.
fn check_ops(plan: &Plan) {
    let mut rows = if plan.purge { vec![] } else { plan.before.clone() };
    for op in plan.steps.iter().flat_map(|s| &s.ops) {
        match op {
            VersionOp::Insert(x) => {
                assert!(!rows.contains(x), "INSERT {x} duplicates a row of {rows:?}");
                rows.push(x.clone());
            }
            VersionOp::Delete(x) => {
                let at = rows.iter().position(|r| r == x).unwrap_or_else(|| panic!("DELETE {x} matches no row of {rows:?}"));
                rows.remove(at);
            }
            VersionOp::Update { from, to } => {
                assert!(!rows.contains(to), "UPDATE to {to} duplicates a row of {rows:?}");
                let at = rows.iter().position(|r| r == from).unwrap_or_else(|| panic!("UPDATE {from} matches no row of {rows:?}"));
                rows[at] = to.clone();
            }
        }
    }
    assert_eq!(rows, plan.after, "the ops do not lead to the plan's rows");
}

/// `{a|b}` in `pattern` matches either alternative (Alembic's hash-seed-dependent choices).
fn expand(pattern: &str) -> Vec<String> {
    match pattern.find('{') {
        None => vec![pattern.to_string()],
        Some(open) => {
            let close = open + pattern[open..].find('}').expect("unbalanced {");
            let rest = expand(&pattern[close + 1..]);
            pattern[open + 1..close].split('|').flat_map(|alt| rest.iter().map(move |r| format!("{}{alt}{r}", &pattern[..open]))).collect()
        }
    }
}

#[track_caller]
fn assert_trace(actual: &str, pattern: &str) {
    let options = expand(pattern);
    assert!(options.iter().any(|o| o == actual), "trace\n  {actual}\nis none of\n  {}", options.join("\n  "));
}

#[track_caller]
fn assert_err(e: &Error, code: &str, message: &str) {
    assert_eq!(e.code(), code, "wrong code for error: {e}");
    assert_eq!(e.to_string(), message);
}

/// Alembic's CLI says `Can't locate revision identified by 'X'`; athanor may add the reason.
#[track_caller]
fn assert_cant_locate(e: &Error, code: &str, ident: &str) {
    assert_eq!(e.code(), code, "wrong code for error: {e}");
    let head = format!("Can't locate revision identified by '{ident}'");
    assert!(e.to_string().starts_with(&head), "{e:?} does not start with {head:?}");
}

/// A version table that the planner's results are applied to, command after command, as
/// Alembic applies them to `alembic_version`.
struct Db<'m> {
    map: &'m RevisionMap,
    rows: Vec<String>,
}

impl<'m> Db<'m> {
    fn new(map: &'m RevisionMap) -> Self {
        Db { map, rows: vec![] }
    }
    fn at(map: &'m RevisionMap, rows: &[&str]) -> Self {
        Db { map, rows: rows.iter().map(|r| r.to_string()).collect() }
    }
    fn rows(&self) -> Vec<&str> {
        self.rows.iter().map(String::as_str).collect()
    }
    fn apply(&mut self, what: &str, plan: Result<Plan, Error>) -> (String, Plan) {
        let plan = plan.unwrap_or_else(|e| panic!("{what} from {:?} failed: {} {e}", self.rows, e.code()));
        assert_eq!(plan.before, self.rows, "{what}: plan.before");
        check_ops(&plan);
        self.rows = plan.after.clone();
        (trace(self.map, &plan), plan)
    }
    fn upgrade(&mut self, target: &str) -> String {
        let p = plan_upgrade(self.map, &self.rows, target);
        self.apply(&format!("upgrade {target}"), p).0
    }
    fn downgrade(&mut self, target: &str) -> String {
        let p = plan_downgrade(self.map, &self.rows, target);
        self.apply(&format!("downgrade {target}"), p).0
    }
    fn downgrade_plan(&mut self, target: &str) -> Plan {
        let p = plan_downgrade(self.map, &self.rows, target);
        self.apply(&format!("downgrade {target}"), p).1
    }
    fn stamp(&mut self, targets: &[&str]) -> String {
        let t: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
        let p = plan_stamp(self.map, &self.rows, &t, false);
        self.apply(&format!("stamp {targets:?}"), p).0
    }
    fn upgrade_err(&self, target: &str) -> Error {
        match plan_upgrade(self.map, &self.rows, target) {
            Ok(p) => panic!("upgrade {target} from {:?} should fail, planned: {}", self.rows, trace(self.map, &p)),
            Err(e) => e,
        }
    }
    fn downgrade_err(&self, target: &str) -> Error {
        match plan_downgrade(self.map, &self.rows, target) {
            Ok(p) => panic!("downgrade {target} from {:?} should fail, planned: {}", self.rows, trace(self.map, &p)),
            Err(e) => e,
        }
    }
    fn stamp_err(&self, targets: &[&str]) -> Error {
        let t: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
        match plan_stamp(self.map, &self.rows, &t, false) {
            Ok(p) => panic!("stamp {targets:?} from {:?} should fail, planned: {}", self.rows, trace(self.map, &p)),
            Err(e) => e,
        }
    }
}

fn resolve(map: &RevisionMap, target: &str) -> Result<Vec<String>, Error> {
    Ok(map
        .get_revisions(target)?
        .into_iter()
        .map(|p| match p {
            Pos::Rev(i) => map.id(i).to_string(),
            other => format!("{other:?}"),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// linear chain

const LINEAR: &str = "
    c001
    c002 < c001
    c003 < c002
    c004 < c003
";

#[test]
fn linear_chain_map() {
    let m = map(LINEAR);
    assert_eq!(names(&m, &m.heads), ["c004"]);
    assert_eq!(names(&m, &m.real_heads), ["c004"]);
    assert_eq!(names(&m, &m.bases), ["c001"]);
    let c002 = m.index_of("c002").unwrap();
    assert_eq!(names(&m, &m.node(c002).parents), ["c001"]);
    assert_eq!(names(&m, &m.node(c002).next), ["c003"]);
    assert!(m.node(c002).deps.is_empty());
    // history walks newest first
    let all = m.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).unwrap();
    assert_eq!(names(&m, &all), ["c004", "c003", "c002", "c001"]);
}

#[test]
fn linear_chain_upgrade_and_downgrade_plans() {
    let m = map(LINEAR);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("+2"), "c001 ins c001 c002 upd c001>c002");
    assert_eq!(db.upgrade("+1"), "c003 upd c002>c003");
    assert_eq!(db.downgrade("-1"), "-c003 upd c003>c002");
    // rev+N counts from rev
    assert_eq!(db.upgrade("c002+2"), "c003 upd c002>c003 c004 upd c003>c004");
    assert_eq!(db.rows(), ["c004"]);
    // rev-N as a downgrade target is absolute
    assert_eq!(db.downgrade("c004-3"), "-c004 upd c004>c003 -c003 upd c003>c002 -c002 upd c002>c001");
    assert_eq!(db.upgrade("head"), "c002 upd c001>c002 c003 upd c002>c003 c004 upd c003>c004");
    assert_eq!(db.downgrade("base"), "-c004 upd c004>c003 -c003 upd c003>c002 -c002 upd c002>c001 -c001 del c001");
    assert!(db.rows.is_empty());
    // rev-N as an upgrade target is absolute too: two below c004
    assert_eq!(db.upgrade("c004-2"), "c001 ins c001 c002 upd c001>c002");
}

#[test]
fn linear_chain_steps_name_their_revisions() {
    let m = map(LINEAR);
    let p = plan_upgrade(&m, &["c001".to_string()], "c003").unwrap();
    assert_eq!(p.steps.len(), 2);
    assert_eq!(p.steps[0].kind, StepKind::Upgrade(m.index_of("c002").unwrap()));
    assert_eq!((p.steps[0].from.clone(), p.steps[0].to.clone()), (vec!["c001".to_string()], vec!["c002".to_string()]));
    let p = plan_downgrade(&m, &["c003".to_string()], "c001").unwrap();
    assert_eq!(p.steps[0].kind, StepKind::Downgrade(m.index_of("c003").unwrap()));
    assert_eq!((p.steps[0].from.clone(), p.steps[0].to.clone()), (vec!["c003".to_string()], vec!["c002".to_string()]));
    assert_eq!(p.after, ["c001"]);
}

#[test]
fn linear_chain_relative_steps_past_the_ends_fail() {
    let m = map(LINEAR);
    let db = Db::at(&m, &["c001"]);
    assert_err(&db.downgrade_err("-2"), "INVALID_TARGET", "Relative revision -2 didn't produce 2 migrations");
    assert_err(&db.upgrade_err("+4"), "INVALID_TARGET", "Relative revision +4 didn't produce 4 migrations");
    let db = Db::at(&m, &["c002"]);
    assert_err(&db.downgrade_err("-3"), "INVALID_TARGET", "Relative revision -3 didn't produce 3 migrations");
    // -2 from c002 is exactly base: allowed
    let mut db = Db::at(&m, &["c002"]);
    assert_eq!(db.downgrade("-2"), "-c002 upd c002>c001 -c001 del c001");
    // nothing applied: no current revision to count from
    assert_err(&db.downgrade_err("-1"), "INVALID_TARGET", "Relative revision -1 didn't produce 1 migrations");
}

#[test]
fn linear_chain_wrong_direction_relative_targets_fail() {
    let m = map(LINEAR);
    let db = Db::at(&m, &["c002"]);
    assert_err(&db.upgrade_err("-1"), "INVALID_TARGET", "Relative revision -1 didn't produce 1 migrations");
    assert_err(&db.downgrade_err("+1"), "INVALID_TARGET", "Relative revision +1 didn't produce 1 migrations");
}

// ALEMBIC_NOTES 8: nothing to do is success; going the wrong way is an error.
#[test]
fn note8_directions() {
    let m = map(LINEAR);
    let mut db = Db::at(&m, &["c004"]);
    assert_eq!(db.upgrade("c002"), "", "upgrade to an ancestor does nothing");
    assert_eq!(db.downgrade("c004"), "", "downgrade to the current head does nothing");
    assert_eq!(db.rows(), ["c004"]);
    let db = Db::at(&m, &["c003"]);
    assert_err(&db.downgrade_err("c004"), "INVALID_TARGET", "Destination c004 is not a valid downgrade target from current head(s)");
    assert_err(&db.upgrade_err("-1"), "INVALID_TARGET", "Relative revision -1 didn't produce 1 migrations");
    assert_err(&db.downgrade_err("+1"), "INVALID_TARGET", "Relative revision +1 didn't produce 1 migrations");
    // +N from several heads, +N across a branch point, head-1 / heads-1 with several heads
    let m = map(TWO_BRANCHES);
    let db = Db::at(&m, &["r06d2", "r04d1"]);
    assert_err(&db.upgrade_err("+1"), "INVALID_TARGET", "Ambiguous upgrade from multiple current revisions");
    assert_err(&db.downgrade_err("r02b+1"), "INVALID_TARGET", "Ambiguous walk");
    assert_eq!(db.upgrade_err("head-1").code(), "MULTIPLE_HEADS");
    assert_eq!(db.downgrade_err("heads-1").code(), "MULTIPLE_HEADS");
    let db = Db::at(&m, &["r02b"]);
    assert_err(&db.upgrade_err("+1"), "INVALID_TARGET", "Ambiguous walk");
    let db = Db::at(&m, &["r01a"]);
    assert_err(&db.upgrade_err("+6"), "INVALID_TARGET", "Ambiguous walk");
}

// Alembic names the argument as typed (`head-1`) in the multiple-heads message, since
// `_upgrade_revs`/`_downgrade_revs` report `end=destination`.
#[test]
fn multiple_heads_message_names_the_target_as_typed() {
    let m = map(TWO_BRANCHES);
    let db = Db::at(&m, &["r06d2", "r04d1"]);
    assert_err(
        &db.upgrade_err("head-1"),
        "MULTIPLE_HEADS",
        "Multiple head revisions are present for given argument 'head-1'; please specify a specific target revision, '<branchname>@head-1' to narrow to a specific head, or 'heads' for all heads",
    );
    assert_err(
        &db.downgrade_err("heads-1"),
        "MULTIPLE_HEADS",
        "Multiple head revisions are present for given argument 'heads-1'; please specify a specific target revision, '<branchname>@heads-1' to narrow to a specific head, or 'heads' for all heads",
    );
}

// `history -r` (`walk_revisions`) words its errors as Alembic's
// `_catch_revision_errors(start=base, end=head)`: a multiple-heads error names the range's
// end, whichever side had the several heads (`history -r head:` names `heads`), and the
// version table's rows (`current`) are printed as the Python tuple they are there.
#[test]
fn history_range_errors_name_the_sides_as_alembic_formats_them() {
    let m = map(TWO_BRANCHES);
    let expr = |s: &str| Spec::Expr(s.into());
    let rows = |r: &[&str]| Spec::Rows(r.iter().map(|s| s.to_string()).collect());
    let multiple = |arg: &str| {
        format!("Multiple head revisions are present for given argument '{arg}'; please specify a specific target revision, '<branchname>@{arg}' to narrow to a specific head, or 'heads' for all heads")
    };
    let err = m.walk_revisions(&expr("head"), &expr("heads")).unwrap_err();
    assert_err(&err, "MULTIPLE_HEADS", &multiple("heads"));
    let err = m.walk_revisions(&expr("head"), &rows(&["r04d1"])).unwrap_err();
    assert_err(&err, "MULTIPLE_HEADS", &multiple("('r04d1',)"));
    let err = m.walk_revisions(&expr("base"), &expr("head")).unwrap_err();
    assert_err(&err, "MULTIPLE_HEADS", &multiple("head"));
    let not_ancestor = |a: &str, b: &str| format!("Requested range {a}:{b} does not refer to ancestor/descendant revisions along the same branch");
    let err = m.walk_revisions(&rows(&["r04d1"]), &expr("r06d2")).unwrap_err();
    assert_err(&err, "INVALID_TARGET", &not_ancestor("('r04d1',)", "r06d2"));
    let err = m.walk_revisions(&rows(&["r06d2", "r04d1"]), &expr("r06d2")).unwrap_err();
    assert_err(&err, "INVALID_TARGET", &not_ancestor("('r06d2', 'r04d1')", "r06d2"));
    let err = m.walk_revisions(&expr("head"), &rows(&["r06d2", "r04d1"])).unwrap_err();
    assert_err(&err, "MULTIPLE_HEADS", &multiple("('r06d2', 'r04d1')"));
}

// ---------------------------------------------------------------------------------------
// diamond: a branch and its merge

const DIAMOND: &str = "
    d0base
    d1left < d0base
    d2right < d0base
    d3merge < d1left d2right
    d4top < d3merge
";

#[test]
fn diamond_map() {
    let m = map(DIAMOND);
    assert_eq!(names(&m, &m.heads), ["d4top"]);
    assert_eq!(names(&m, &m.real_heads), ["d4top"]);
    assert_eq!(names(&m, &m.bases), ["d0base"]);
    let base = m.node(m.index_of("d0base").unwrap());
    assert!(base.is_branch_point());
    assert_eq!(sorted(names(&m, &base.next)), ["d1left", "d2right"]);
    let merge = m.node(m.index_of("d3merge").unwrap());
    assert!(merge.is_merge_point());
    assert_eq!(names(&m, &merge.parents), ["d1left", "d2right"]);
}

#[test]
fn diamond_upgrade_and_downgrade_through_the_merge() {
    let m = map(DIAMOND);
    let mut db = Db::new(&m);
    // The merge deletes one parent row and updates the other (ALEMBIC_NOTES 3).
    assert_eq!(
        db.upgrade("heads"),
        "d0base ins d0base d2right upd d0base>d2right d1left ins d1left d3merge del d1left upd d2right>d3merge d4top upd d3merge>d4top"
    );
    assert_eq!(db.rows(), ["d4top"]);
    // Un-merging updates the merge row to one parent and re-inserts the other.
    assert_trace(&db.downgrade("d1left"), "-d4top upd d4top>d3merge -d3merge {ins d1left upd d3merge>d2right|ins d2right upd d3merge>d1left}");
    assert_eq!(sorted(db.rows.clone()), ["d1left", "d2right"]);
    // whatever the row order, the heads are walked in load order
    assert_eq!(db.downgrade("base"), "-d1left del d1left -d2right upd d2right>d0base -d0base del d0base");
    assert!(db.rows.is_empty());
}

#[test]
fn diamond_upgrade_from_one_side() {
    let m = map(DIAMOND);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("d1left"), "d0base ins d0base d1left upd d0base>d1left");
    // d2right's parent is not a row any more: it starts a new row; then the merge
    assert_eq!(db.upgrade("heads"), "d2right ins d2right d3merge del d1left upd d2right>d3merge d4top upd d3merge>d4top");
    // downgrading to either side of the diamond removes the merge and what is above it
    assert_trace(&db.downgrade("d2right"), "-d4top upd d4top>d3merge -d3merge {ins d1left upd d3merge>d2right|ins d2right upd d3merge>d1left}");
}

#[test]
fn diamond_relative_walks_are_ambiguous_at_branch_and_merge_points() {
    let m = map(DIAMOND);
    let db = Db::at(&m, &["d0base"]);
    assert_err(&db.upgrade_err("+1"), "INVALID_TARGET", "Ambiguous walk");
    assert_err(&Db::new(&m).upgrade_err("d0base+2"), "INVALID_TARGET", "Ambiguous walk");
    let db = Db::at(&m, &["d3merge"]);
    assert_err(&db.downgrade_err("-1"), "INVALID_TARGET", "Ambiguous walk");
    let db = Db::at(&m, &["d4top"]);
    assert_err(&db.downgrade_err("d4top-2"), "INVALID_TARGET", "Ambiguous walk");
    let db = Db::at(&m, &["d2right", "d1left"]);
    assert_err(&db.upgrade_err("+1"), "INVALID_TARGET", "Ambiguous upgrade from multiple current revisions");
}

// ALEMBIC_NOTES 10 on a small scale: `-1` from two rows starts from the first row.
#[test]
fn diamond_downgrade_minus_one_from_two_rows_uses_the_first_row() {
    let m = map(DIAMOND);
    let mut db = Db::at(&m, &["d2right", "d1left"]);
    let plan = db.downgrade_plan("-1");
    assert_eq!(trace(&m, &plan), "-d2right del d2right");
    assert_eq!(db.rows(), ["d1left"]);
    assert_eq!(plan.warnings, ["downgrade -1 from multiple heads is ambiguous; this usage will be disallowed in a future release."]);
    let mut db = Db::at(&m, &["d1left", "d2right"]);
    assert_eq!(db.downgrade("-1"), "-d1left del d1left");
}

// ---------------------------------------------------------------------------------------
// merges of merges

const MERGES: &str = "
    m0
    m1a < m0
    m1b < m0
    m1c < m0
    m2ab < m1a m1b
    m2bc < m1b m1c
    m3 < m2ab m2bc
";

#[test]
fn merges_of_merges_map() {
    let m = map(MERGES);
    assert_eq!(names(&m, &m.heads), ["m3"]);
    assert_eq!(names(&m, &m.bases), ["m0"]);
    let m1b = m.node(m.index_of("m1b").unwrap());
    assert_eq!(sorted(names(&m, &m1b.next)), ["m2ab", "m2bc"]);
}

#[test]
fn merges_of_merges_upgrade_and_downgrade() {
    let m = map(MERGES);
    let mut db = Db::new(&m);
    assert_eq!(
        db.upgrade("heads"),
        "m0 ins m0 m1b upd m0>m1b m1c ins m1c m2bc del m1b upd m1c>m2bc m1a ins m1a m2ab upd m1a>m2ab m3 del m2ab upd m2bc>m3"
    );
    assert_eq!(db.rows(), ["m3"]);
    assert_trace(
        &db.downgrade("base"),
        "-m3 {ins m2bc upd m3>m2ab|ins m2ab upd m3>m2bc} -m2ab upd m2ab>m1a -m1a del m1a \
         -m2bc {ins m1c upd m2bc>m1b|ins m1b upd m2bc>m1c} -m1c del m1c -m1b upd m1b>m0 -m0 del m0",
    );
    assert!(db.rows.is_empty());
}

#[test]
fn merges_of_merges_partial_states() {
    let m = map(MERGES);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("m2ab"), "m0 ins m0 m1b upd m0>m1b m1a ins m1a m2ab del m1a upd m1b>m2ab");
    // m2bc's other parent m1b is implied by m2ab: a plain UPDATE of the m1c row
    assert_eq!(db.upgrade("heads"), "m1c ins m1c m2bc upd m1c>m2bc m3 del m2ab upd m2bc>m3");
    assert_trace(&db.downgrade("m2ab"), "-m3 {ins m2bc upd m3>m2ab|ins m2ab upd m3>m2bc}");
    assert_eq!(sorted(db.rows.clone()), ["m2ab", "m2bc"]);
    // m2ab's parent m1b is still implied by m2bc: only m1a comes back for it
    assert_trace(&db.downgrade("m1b"), "-m2ab upd m2ab>m1a -m2bc {ins m1c upd m2bc>m1b|ins m1b upd m2bc>m1c}");
    assert_eq!(sorted(db.rows.clone()), ["m1a", "m1b", "m1c"]);
    // three rows collapse into one: two deletes, one update, whatever the row order
    assert_eq!(db.downgrade("m0"), "-m1a del m1a -m1b del m1b -m1c upd m1c>m0");
    assert_eq!(db.rows(), ["m0"]);
    assert_eq!(db.upgrade("m2bc"), "m1c upd m0>m1c m1b ins m1b m2bc del m1b upd m1c>m2bc");
    assert_eq!(db.upgrade("heads"), "m1a ins m1a m2ab upd m1a>m2ab m3 del m2ab upd m2bc>m3");
}

// ---------------------------------------------------------------------------------------
// a branch from the middle of a chain, labelled

const MIDDLE: &str = "
    k001
    k002 < k001
    k003 < k002
    k004 < k003
    kx01 < k002 @side
";

#[test]
fn branch_from_middle_map() {
    let m = map(MIDDLE);
    assert_eq!(names(&m, &m.heads), ["k004", "kx01"]);
    assert_eq!(names(&m, &m.real_heads), ["k004", "kx01"]);
    assert_eq!(names(&m, &m.bases), ["k001"]);
    // the label covers its revision and stops at the branch point below it
    assert!(m.node(m.index_of("kx01").unwrap()).labels.contains("side"));
    assert!(!m.node(m.index_of("k002").unwrap()).labels.contains("side"));
    assert!(!m.node(m.index_of("k004").unwrap()).labels.contains("side"));
}

#[test]
fn branch_from_middle_plans() {
    let m = map(MIDDLE);
    let mut db = Db::new(&m);
    // The branch whose head sorts first (k004) is applied last (ALEMBIC_NOTES 2).
    assert_eq!(db.upgrade("heads"), "k001 ins k001 k002 upd k001>k002 kx01 upd k002>kx01 k003 ins k003 k004 upd k003>k004");
    assert_eq!(db.rows(), ["kx01", "k004"]);
    // One base: `side@base` has a single root to go down to, so everything goes.
    assert_eq!(db.downgrade("side@base"), "-k004 upd k004>k003 -k003 del k003 -kx01 upd kx01>k002 -k002 upd k002>k001 -k001 del k001");
    assert_eq!(db.upgrade("side@head"), "k001 ins k001 k002 upd k001>k002 kx01 upd k002>kx01");
    assert_eq!(db.upgrade("heads"), "k003 ins k003 k004 upd k003>k004");
    // a revision id used as a branch name
    assert_eq!(db.downgrade("kx01@base"), "-k004 upd k004>k003 -k003 del k003 -kx01 upd kx01>k002 -k002 upd k002>k001 -k001 del k001");
    assert_err(&db.downgrade_err("k002"), "INVALID_TARGET", "Destination k002 is not a valid downgrade target from current head(s)");
    assert_eq!(db.upgrade("k004"), "k001 ins k001 k002 upd k001>k002 k003 upd k002>k003 k004 upd k003>k004");
    // side@+1 starts from the branch point since the side branch has no row yet
    assert_eq!(db.upgrade("side@+1"), "kx01 ins kx01");
    assert_eq!(db.downgrade("side@-1"), "-kx01 del kx01");
    assert_eq!(db.downgrade("-1"), "-k004 upd k004>k003");
}

// ---------------------------------------------------------------------------------------
// dependencies across branches (a depends_on on another base)

const DEPS: &str = "
    x001 @xb
    x002 < x001
    y001 @yb
    y002 < y001 &x001
";

#[test]
fn cross_branch_dependency_map() {
    let m = map(DEPS);
    assert_eq!(names(&m, &m.heads), ["x002", "y002"]);
    assert_eq!(names(&m, &m.real_heads), ["x002", "y002"]);
    assert_eq!(names(&m, &m.bases), ["x001", "y001"]);
    let x001 = m.node(m.index_of("x001").unwrap());
    assert_eq!(names(&m, &x001.next), ["x002"], "a dependency is not a versioned child");
    assert_eq!(sorted(names(&m, &x001.all_next)), ["x002", "y002"]);
    assert_eq!(names(&m, &m.node(m.index_of("y002").unwrap()).deps), ["x001"]);
}

#[test]
fn cross_branch_dependency_plans() {
    let m = map(DEPS);
    let mut db = Db::new(&m);
    // ALEMBIC_NOTES 2: the dependency runs first, even from another base; y002 then
    // consumes both rows like a merge.
    assert_eq!(db.upgrade("y002"), "x001 ins x001 y001 ins y001 y002 del y001 upd x001>y002");
    assert_eq!(db.upgrade("heads"), "x002 ins x002");
    assert_eq!(db.rows(), ["y002", "x002"]);
    // x001 stays implied by y002's dependency: x002's row is deleted, not moved down
    assert_eq!(db.downgrade("x001"), "-x002 del x002");
    assert_eq!(db.rows(), ["y002"]);
    assert_eq!(db.upgrade("heads"), "x002 ins x002");
    // going below x001 on its branch takes its dependent y002 down too
    assert_trace(&db.downgrade("xb@base"), "-x002 del x002 -y002 {ins y001 upd y002>x001|ins x001 upd y002>y001} -x001 del x001");
    assert_eq!(db.rows(), ["y001"]);
    assert_eq!(db.upgrade("heads"), "x001 ins x001 y002 del y001 upd x001>y002 x002 ins x002");
    assert_trace(&db.downgrade("base"), "-x002 del x002 -y002 {ins y001 upd y002>x001|ins x001 upd y002>y001} -y001 del y001 -x001 del x001");
    assert!(db.rows.is_empty());
    assert_eq!(db.upgrade("yb@head"), "x001 ins x001 y001 ins y001 y002 del y001 upd x001>y002");
    assert_trace(&db.downgrade("yb@base"), "-y002 {ins y001 upd y002>x001|ins x001 upd y002>y001} -y001 del y001");
    assert_eq!(db.rows(), ["x001"]);
    assert_eq!(db.downgrade("base"), "-x001 del x001");
    assert_eq!(db.upgrade("xb@head"), "x001 ins x001 x002 upd x001>x002");
    assert_eq!(db.upgrade("heads"), "y001 ins y001 y002 upd y001>y002");
    assert_eq!(db.downgrade("yb@base"), "-y002 upd y002>y001 -y001 del y001");
    assert_eq!(db.rows(), ["x002"]);
}

// ---------------------------------------------------------------------------------------
// labels on branch roots: label@head, label@base, label@+1, label@-1, prefixes of labels

/// ALEMBIC_NOTES 2's graph: heads r04d1 and r06d2, branching at r02b.
const TWO_BRANCHES: &str = "
    r01a
    r02b < r01a
    r03c1 < r02b
    r04d1 < r03c1
    r05c2 < r02b
    r06d2 < r05c2
";

const LABELLED: &str = "
    r01a
    r02b < r01a
    r03c1 < r02b @shopping
    r04d1 < r03c1
    r05c2 < r02b @billing
    r06d2 < r05c2
";

#[test]
fn labels_cover_their_branch_only() {
    let m = map(LABELLED);
    let labels = |id: &str| m.node(m.index_of(id).unwrap()).labels.iter().cloned().collect::<Vec<_>>();
    assert_eq!(labels("r03c1"), ["shopping"]);
    assert_eq!(labels("r04d1"), ["shopping"]);
    assert_eq!(labels("r06d2"), ["billing"]);
    assert!(labels("r02b").is_empty(), "the branch point belongs to neither label");
    assert_eq!(resolve(&m, "shopping@head").unwrap(), ["r04d1"]);
    assert_eq!(resolve(&m, "billing@head").unwrap(), ["r06d2"]);
    assert_eq!(resolve(&m, "billing@base").unwrap(), Vec::<String>::new());
    assert_eq!(resolve(&m, "shopping").unwrap(), ["r03c1"]);
    // a prefix of a label resolves like a prefix of an id (ALEMBIC_NOTES 5)
    assert_eq!(resolve(&m, "sho").unwrap(), ["r03c1"]);
    assert_eq!(resolve(&m, "sho@head").unwrap(), ["r04d1"]);
    // label@-N walks down from that branch's head
    assert_eq!(resolve(&m, "shopping@-1").unwrap(), ["r03c1"]);
    assert_eq!(resolve(&m, "billing@-2").unwrap(), ["r02b"]);
    let e = m.get_revisions("billing@r04d1").unwrap_err();
    assert_cant_locate(&e, "UNKNOWN_REVISION", "r04d1");
}

#[test]
fn labels_relative_upgrades_and_downgrades() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("r02b"), "r01a ins r01a r02b upd r01a>r02b");
    // ALEMBIC_NOTES 9: label@+N starts from the branch's current row or its branch point
    assert_eq!(db.upgrade("billing@+1"), "r05c2 upd r02b>r05c2");
    assert_eq!(db.upgrade("shopping@+1"), "r03c1 ins r03c1");
    assert_eq!(db.upgrade("billing@+1"), "r06d2 upd r05c2>r06d2");
    assert_eq!(db.upgrade("shopping@+1"), "r04d1 upd r03c1>r04d1");
    assert_eq!(db.rows(), ["r06d2", "r04d1"]);
    assert_err(&db.upgrade_err("shopping@+1"), "INVALID_TARGET", "Relative revision +1 didn't produce 1 migrations");
    // ALEMBIC_NOTES 10: label@-N walks from that label's current row
    assert_eq!(db.downgrade("shopping@-1"), "-r04d1 upd r04d1>r03c1");
    assert_eq!(db.downgrade("billing@-1"), "-r06d2 upd r06d2>r05c2");
    // r02b stays implied by r03c1: the billing row is deleted
    assert_eq!(db.downgrade("billing@-1"), "-r05c2 del r05c2");
    assert_eq!(db.rows(), ["r03c1"]);
    assert_eq!(db.upgrade("billing@head"), "r05c2 ins r05c2 r06d2 upd r05c2>r06d2");
    // one base: shopping@base goes down to it, taking billing along
    assert_eq!(db.downgrade("shopping@base"), "-r03c1 del r03c1 -r06d2 upd r06d2>r05c2 -r05c2 upd r05c2>r02b -r02b upd r02b>r01a -r01a del r01a");
    assert_eq!(db.upgrade("sho@head"), "r01a ins r01a r02b upd r01a>r02b r03c1 upd r02b>r03c1 r04d1 upd r03c1>r04d1");
    assert_err(&db.downgrade_err("bil@r02b"), "INVALID_TARGET", "Destination bil@r02b is not a valid downgrade target from current head(s)");
    assert_eq!(db.upgrade("bill@+2"), "r05c2 ins r05c2 r06d2 upd r05c2>r06d2");
    assert_eq!(db.downgrade("billing@-2"), "-r06d2 upd r06d2>r05c2 -r05c2 del r05c2");
    assert_eq!(db.upgrade("billing@r06d2"), "r05c2 ins r05c2 r06d2 upd r05c2>r06d2");
    // `label@rev` as a downgrade target does not check the label: r06d2 is a row already
    assert_eq!(db.downgrade("shopping@r06d2"), "");
    assert_cant_locate(&db.upgrade_err("billing@r04d1"), "UNKNOWN_REVISION", "r04d1");
    let db = Db::at(&m, &["r04d1"]);
    assert_err(
        &db.downgrade_err("shopping@r06d2"),
        "INVALID_TARGET",
        "Destination shopping@r06d2 is not a valid downgrade target from current head(s)",
    );
}

// A label whose branch has no row yet: label@+1 starts from the newest applied revision
// below it, here the branch point r02b.
#[test]
fn label_plus_one_from_the_branch_point() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("r03c1"), "r01a ins r01a r02b upd r01a>r02b r03c1 upd r02b>r03c1");
    assert_eq!(db.upgrade("billing@+1"), "r05c2 ins r05c2");
    assert_eq!(db.rows(), ["r03c1", "r05c2"]);
    assert_eq!(db.downgrade("r02b"), "-r03c1 del r03c1 -r05c2 upd r05c2>r02b");
    // ALEMBIC_NOTES 9: rev+N counts from rev, not from the current row
    assert_eq!(db.upgrade("r03c1+1"), "r03c1 upd r02b>r03c1 r04d1 upd r03c1>r04d1");
    assert_eq!(db.downgrade("-3"), "-r04d1 upd r04d1>r03c1 -r03c1 upd r03c1>r02b -r02b upd r02b>r01a");
    assert_err(&db.downgrade_err("-4"), "INVALID_TARGET", "Relative revision -4 didn't produce 4 migrations");
    assert_eq!(db.upgrade("shopping@+2"), "r02b upd r01a>r02b r03c1 upd r02b>r03c1");
}

// ALEMBIC_NOTES 9 and 10 on ALEMBIC_NOTES 2's graph.
#[test]
fn note9_relative_targets() {
    let m = map(TWO_BRANCHES);
    let mut db = Db::new(&m);
    // `upgrade rev-2` is the absolute revision two below rev
    assert_eq!(db.upgrade("r04d1-2"), "r01a ins r01a r02b upd r01a>r02b");
    // `rev+N` counts from rev: r03c1+1 is r04d1 whatever the current row
    assert_eq!(db.upgrade("r03c1+1"), "r03c1 upd r02b>r03c1 r04d1 upd r03c1>r04d1");
    assert_eq!(db.upgrade("heads"), "r05c2 ins r05c2 r06d2 upd r05c2>r06d2");
    // `base+2` downgrades every branch above the 2nd revision
    assert_eq!(db.downgrade("base+2"), "-r04d1 upd r04d1>r03c1 -r03c1 del r03c1 -r06d2 upd r06d2>r05c2 -r05c2 upd r05c2>r02b");
    assert_eq!(db.rows(), ["r02b"]);
}

#[test]
fn note10_downgrade_minus_n_with_several_heads() {
    let m = map(TWO_BRANCHES);
    let mut db = Db::new(&m);
    db.upgrade("heads");
    assert_eq!(db.rows(), ["r06d2", "r04d1"]);
    // -3 from the first row r06d2 is r01a; everything above it goes: 5 downgrades
    let plan = db.downgrade_plan("-3");
    assert_eq!(trace(&m, &plan), "-r04d1 upd r04d1>r03c1 -r03c1 del r03c1 -r06d2 upd r06d2>r05c2 -r05c2 upd r05c2>r02b -r02b upd r02b>r01a");
    assert_eq!(plan.steps.len(), 5);
    assert_eq!(plan.warnings, ["downgrade -1 from multiple heads is ambiguous; this usage will be disallowed in a future release."]);
    assert_eq!(db.rows(), ["r01a"]);
}

// ALEMBIC_NOTES 2: heads r04d1 and r06d2; the branch whose head sorts first runs last.
#[test]
fn note2_step_order() {
    let m = map(TWO_BRANCHES);
    assert_eq!(names(&m, &m.heads), ["r04d1", "r06d2"]);
    let mut db = Db::new(&m);
    assert_eq!(
        db.upgrade("heads"),
        "r01a ins r01a r02b upd r01a>r02b r05c2 upd r02b>r05c2 r06d2 upd r05c2>r06d2 r03c1 ins r03c1 r04d1 upd r03c1>r04d1"
    );
    assert_eq!(db.rows(), ["r06d2", "r04d1"]);
    assert_err(
        &db.upgrade_err("head"),
        "MULTIPLE_HEADS",
        "Multiple head revisions are present for given argument 'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads",
    );
}

// ---------------------------------------------------------------------------------------
// several bases

const BASES: &str = "
    p001
    p002 < p001
    q001
    q002 < q001
    s001
";

#[test]
fn several_bases_map_and_plans() {
    let m = map(BASES);
    assert_eq!(names(&m, &m.heads), ["p002", "q002", "s001"]);
    assert_eq!(names(&m, &m.real_heads), ["p002", "q002", "s001"]);
    assert_eq!(names(&m, &m.bases), ["p001", "q001", "s001"]);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("heads"), "s001 ins s001 q001 ins q001 q002 upd q001>q002 p001 ins p001 p002 upd p001>p002");
    assert_eq!(db.rows(), ["s001", "q002", "p002"]);
    assert_eq!(db.upgrade_err("head").code(), "MULTIPLE_HEADS");
    // a revision used as a branch name picks its base
    assert_eq!(db.downgrade("p001@base"), "-p002 upd p002>p001 -p001 del p001");
    assert_eq!(db.downgrade("base"), "-q002 upd q002>q001 -q001 del q001 -s001 del s001");
    assert_eq!(db.upgrade("p001@head"), "p001 ins p001 p002 upd p001>p002");
    assert_cant_locate(&db.upgrade_err("q00@head"), "AMBIGUOUS_REVISION", "q00");
    assert_eq!(db.upgrade("q002"), "q001 ins q001 q002 upd q001>q002");
    assert_eq!(db.upgrade("s001"), "s001 ins s001");
    assert_eq!(db.rows(), ["p002", "q002", "s001"]);
    assert_eq!(db.downgrade("-1"), "-p002 upd p002>p001");
    assert_eq!(db.downgrade("base"), "-p001 del p001 -q002 upd q002>q001 -q001 del q001 -s001 del s001");
}

// ---------------------------------------------------------------------------------------
// broken graphs

#[test]
fn cycle_without_heads_or_bases() {
    let e = try_map("a < b\nb < a").unwrap_err();
    assert_err(&e, "CYCLE", "Cycle is detected in revisions (a, b)");
}

#[test]
fn cycle_beside_a_sound_branch() {
    // r is a head and a base; a and b are reachable from neither end
    let e = try_map("r\na < b\nb < a").unwrap_err();
    assert_err(&e, "CYCLE", "Cycle is detected in revisions (a, b)");
    // a cycle hanging off a base: no head at all, so every revision is listed
    let e = try_map("r\na < r b\nb < a").unwrap_err();
    assert_err(&e, "CYCLE", "Cycle is detected in revisions (a, b, r)");
}

#[test]
fn dependency_cycle() {
    // b depends on c, which revises b; d keeps a real head, so only b and c are lost
    let e = try_map("a\nb < a &c\nc < b\nd < a").unwrap_err();
    assert_err(&e, "CYCLE", "Dependency cycle is detected in revisions (b, c)");
    // no real head left at all: every revision is listed, in load order
    let e = try_map("a\nb < a\nc < b &d\nd < c").unwrap_err();
    assert_err(&e, "CYCLE", "Dependency cycle is detected in revisions (a, b, c, d)");
}

// Alembic rejects these in `Revision.__init__`, before building the map.
#[test]
fn self_loops() {
    let e = try_map("a < a").unwrap_err();
    assert_err(&e, "CYCLE", "Self-loop is detected in revisions (a)");
    let e = try_map("a\nb < a &b").unwrap_err();
    assert_err(&e, "CYCLE", "Dependency self-loop is detected in revisions (b)");
}

// The same, for scripts handed to the map directly rather than parsed from files.
#[test]
fn self_loops_in_scripts_built_directly() {
    let base = scripts("a").unwrap().remove(0);
    let script = |id: &str, parents: &[&str], deps: &[&str]| Script {
        id: id.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        depends_on: deps.iter().map(|p| p.to_string()).collect(),
        file_name: format!("{id}_m.sql"),
        path: format!("migrations/{id}_m.sql"),
        ..base.clone()
    };
    let loop_ = RevisionMap::new(vec![script("a", &["a"], &[])]).unwrap_err();
    let dep_loop = RevisionMap::new(vec![script("a", &[], &[]), script("b", &["a"], &["b"])]).unwrap_err();
    assert_eq!((loop_.code(), dep_loop.code()), ("CYCLE", "CYCLE"));
    assert_eq!(
        (loop_.to_string(), dep_loop.to_string()),
        ("Self-loop is detected in revisions (a)".to_string(), "Dependency self-loop is detected in revisions (b)".to_string())
    );
}

#[test]
fn unknown_parent_or_dependency() {
    let e = try_map("a001\nb001 < zz01").unwrap_err();
    assert_err(&e, "UNKNOWN_PARENT", "Revision zz01 referenced from b001 is not present");
    let e = try_map("a001\nb001 < a001 &zz01").unwrap_err();
    assert_err(&e, "UNKNOWN_PARENT", "Revision zz01 referenced from b001 is not present");
}

// ---------------------------------------------------------------------------------------
// deep and wide histories: planning stays linear

/// A revision built directly (no file text): the big graphs below skip the parser.
fn bare(id: String, parents: Vec<String>) -> Script {
    let mut s = scripts("x001").unwrap().remove(0);
    s.file_name = format!("{id}_m.sql");
    s.path = format!("migrations/{id}_m.sql");
    s.id = id;
    s.parents = parents;
    s
}

/// 50,000 revisions in one chain: building the map, `heads`, `history`, `current`, and
/// planning `upgrade heads` from nothing and `downgrade base` from the top (which took
/// minutes here when each step walked the chain below it). No timing is asserted: a
/// quadratic planner shows up as this test hanging.
#[test]
fn a_deep_chain_plans_in_linear_time() {
    let n = 50_000;
    let id = |i: usize| format!("c{i:06}");
    let map = RevisionMap::new((0..n).map(|i| bare(id(i), if i == 0 { vec![] } else { vec![id(i - 1)] })).collect()).unwrap();
    let top = id(n - 1);
    assert_eq!(map.heads.iter().map(|&h| map.id(h)).collect::<Vec<_>>(), [top.as_str()]);
    let history = map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).unwrap();
    assert_eq!((history.len(), map.id(history[0])), (n, top.as_str()));
    assert_eq!(map.all_current(&[id(n / 2)]).unwrap(), vec![n / 2]);
    let up = plan_upgrade(&map, &[], "heads").unwrap();
    assert_eq!((up.steps.len(), up.after.clone()), (n, vec![top.clone()]));
    let down = plan_downgrade(&map, std::slice::from_ref(&top), "base").unwrap();
    assert_eq!(down.steps.len(), n);
    assert_eq!(down.steps[0].ops, vec![VersionOp::Update { from: top.clone(), to: id(n - 2) }]);
    assert_eq!(down.steps[n - 1].ops, vec![VersionOp::Delete(id(0))]);
    let partial = plan_downgrade(&map, std::slice::from_ref(&top), &id(10)).unwrap();
    assert_eq!(partial.after, vec![id(10)]);
    let relative = plan_upgrade(&map, &[id(0)], &format!("+{}", n - 1)).unwrap();
    assert_eq!(relative.after, vec![top]);
}

/// One merge of 20,000 branches (bases and two-revision chains, alternately): the map,
/// `upgrade heads` (20,000 rows at once before the merge), `downgrade base` back
/// through the merge, and a downgrade to one branch, in linear time.
#[test]
fn a_wide_merge_plans_in_linear_time() {
    let mut all = Vec::new();
    let mut parents = Vec::new();
    for k in 0..20_000usize {
        let b = format!("b{k:05}");
        all.push(bare(b.clone(), vec![]));
        if k % 2 == 1 {
            let c = format!("c{k:05}");
            all.push(bare(c.clone(), vec![b]));
            parents.push(c);
        } else {
            parents.push(b);
        }
    }
    all.push(bare("m00001".into(), parents.clone()));
    let map = RevisionMap::new(all).unwrap();
    let history = map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).unwrap();
    assert_eq!((history.len(), map.id(history[0])), (30_001, "m00001"));
    let up = plan_upgrade(&map, &[], "heads").unwrap();
    assert_eq!((up.steps.len(), up.after.clone()), (30_001, vec!["m00001".to_string()]));
    let merge = up.steps.last().unwrap();
    assert_eq!(merge.ops.len(), 20_000, "deletes 19,999 parent rows, updates the last");
    let down = plan_downgrade(&map, &["m00001".to_string()], "base").unwrap();
    assert_eq!((down.steps.len(), down.after.len()), (30_001, 0));
    let one = plan_downgrade(&map, &["m00001".to_string()], "c00001").unwrap();
    assert_eq!(one.after.len(), 20_000);
}

/// A merge that revises a revision and one of its descendants would pass `heads` and
/// `history` and then break the version table (a downgrade through it from two heads
/// re-inserts a row the other one implies; Alembic fails the same way): refused when
/// the map is built, naming both revisions and the merge's file.
#[test]
fn merge_of_a_revision_and_its_descendant() {
    let e = try_map("r001\nr002 < r001\nm001 < r001 r002").unwrap_err();
    assert_err(
        &e,
        "PARSE_ERROR",
        "Revision m001 (migrations/m001_m.sql) revises both r001 and r002, but r001 is already an ancestor of r002: a merge's parents must be independent (revise r002 alone)",
    );
    // Written the other way round, further apart, through a dependency, beside other bases.
    let e = try_map("r001\nr002 < r001\nr003 < r002\nx001\nm001 < r003 x001 r001").unwrap_err();
    assert_err(
        &e,
        "PARSE_ERROR",
        "Revision m001 (migrations/m001_m.sql) revises both r001 and r003, but r001 is already an ancestor of r003: a merge's parents must be independent (revise r003 alone)",
    );
    let e = try_map("r001\nx001 &r001\nm001 < x001 r001").unwrap_err();
    assert!(e.to_string().contains("r001 is already an ancestor of x001"), "{e}");
    // Independent parents, with common ancestors, stay a valid merge.
    assert!(try_map("r001\na001 < r001\nb001 < r001\nm001 < a001 b001").is_ok());
}

/// The check is not quadratic: a merge of 20,000 branches, and a chain of 10,000 merges
/// that each bring in a new base (searching down from every merge alone would walk the
/// whole chain each time; the search up from the new base stops at once).
#[test]
fn merge_checks_stay_linear_on_wide_and_deep_merges() {
    let mut spec = String::new();
    let mut parents = Vec::new();
    for k in 0..20_000 {
        spec += &format!("b{k:05}\n");
        parents.push(format!("b{k:05}"));
    }
    spec += &format!("m0001 < {}\n", parents.join(" "));
    assert_eq!(try_map(&spec).unwrap().len(), 20_001);
    let mut spec = String::from("m00000\n");
    for k in 1..10_000 {
        spec += &format!("x{k:05}\nm{k:05} < m{:05} x{k:05}\n", k - 1);
    }
    assert_eq!(try_map(&spec).unwrap().len(), 19_999);
}

#[test]
fn duplicate_revision_id() {
    let mut s = scripts("a001\nb001 < a001").unwrap();
    let mut dup = s[1].clone();
    dup.file_name = "b001_again.sql".into();
    dup.path = "migrations/b001_again.sql".into();
    s.push(dup);
    let e = RevisionMap::new(s).unwrap_err();
    assert_eq!(e.code(), "DUPLICATE_REVISION");
    assert!(e.to_string().contains("b001"), "{e}");
    assert!(e.to_string().contains("b001_again.sql"), "the message names the second file: {e}");
}

#[test]
fn duplicate_label() {
    let e = try_map("a001 @x\nb001 < a001 @x").unwrap_err();
    assert_err(&e, "DUPLICATE_LABEL", "Branch name 'x' in revision b001 already used by revision a001");
    // a label may not shadow a revision id either
    let e = try_map("a001 @b001\nb001 < a001").unwrap_err();
    assert_err(&e, "DUPLICATE_LABEL", "Branch name 'b001' in revision a001 already used by revision b001");
}

#[test]
fn irreversible_revision_fails_before_anything_runs() {
    let m = map("c001\nc002 < c001\nc003 < c002 !irreversible\nc004 < c003");
    let mut db = Db::new(&m);
    db.upgrade("heads");
    assert_eq!(db.downgrade("c003"), "-c004 upd c004>c003");
    let e = db.downgrade_err("c002");
    assert_eq!(e.code(), "IRREVERSIBLE");
    assert!(e.to_string().contains("c003"), "{e}");
}

#[test]
fn rows_naming_unknown_revisions_are_refused() {
    let m = map(LINEAR);
    let db = Db::at(&m, &["deadbeef0000"]);
    assert_eq!(db.upgrade_err("heads").code(), "DATABASE_AHEAD");
    assert_eq!(db.downgrade_err("base").code(), "DATABASE_AHEAD");
}

// ---------------------------------------------------------------------------------------
// target resolution

const IDS: &str = "
    abc
    abcdef01 < abc
    f00 < abcdef01
    f00d0001 < f00 @feature
    f00e0002 < f00 @fearless
";

#[test]
fn ids_of_three_characters_or_fewer_match_only_exactly() {
    let m = map(IDS);
    assert_eq!(resolve(&m, "abc").unwrap(), ["abc"]);
    assert_eq!(resolve(&m, "f00").unwrap(), ["f00"]);
    // `ab` is a prefix of `abc` too, but `abc` is too short to be matched by prefix
    assert_eq!(resolve(&m, "ab").unwrap(), ["abcdef01"]);
    assert_eq!(resolve(&m, "abcd").unwrap(), ["abcdef01"]);
    assert_err(
        &m.get_revisions("ff").unwrap_err(),
        "UNKNOWN_REVISION",
        "Can't locate revision identified by 'ff': No such revision or branch 'ff'; please ensure at least four characters are present for partial revision identifier matches",
    );
    assert_cant_locate(&m.get_revisions("zzzzz").unwrap_err(), "UNKNOWN_REVISION", "zzzzz");
    assert!(!m.get_revisions("zzzzz").unwrap_err().to_string().contains("four characters"));
}

#[test]
fn prefixes_of_ids_and_labels() {
    let m = map(IDS);
    assert_eq!(resolve(&m, "feat").unwrap(), ["f00d0001"]);
    assert_eq!(resolve(&m, "fear").unwrap(), ["f00e0002"]);
    assert_eq!(resolve(&m, "feature").unwrap(), ["f00d0001"]);
    // labels are keys like ids: `fea` names two labels, `f` ids and labels
    assert_cant_locate(&m.get_revisions("fea").unwrap_err(), "AMBIGUOUS_REVISION", "fea");
    let e = m.get_revisions("f0").unwrap_err();
    assert_err(&e, "AMBIGUOUS_REVISION", "Can't locate revision identified by 'f0': Multiple revisions start with 'f0': 'f00d0001', 'f00e0002'...");
    assert_cant_locate(&m.get_revisions("f").unwrap_err(), "AMBIGUOUS_REVISION", "f");
    assert_eq!(m.get_revision("feat").unwrap().map(|i| m.id(i).to_string()), Some("f00d0001".into()));
    assert_eq!(m.get_revision("base").unwrap(), None);
}

#[test]
fn head_heads_and_branch_forms() {
    let m = map(IDS);
    assert_eq!(resolve(&m, "heads").unwrap(), ["f00d0001", "f00e0002"]);
    assert_eq!(m.get_revisions("head").unwrap_err().code(), "MULTIPLE_HEADS");
    assert_eq!(m.get_revision("heads").unwrap_err().code(), "MULTIPLE_HEADS");
    assert_eq!(resolve(&m, "feature@head").unwrap(), ["f00d0001"]);
    assert_eq!(resolve(&m, "fearless@heads").unwrap(), ["f00e0002"]);
    assert_eq!(resolve(&m, "feature@base").unwrap(), Vec::<String>::new());
    // both heads descend from f00 and abc
    assert_eq!(m.get_revisions("f00@head").unwrap_err().code(), "MULTIPLE_HEADS");
    assert_eq!(m.get_revisions("abc@head").unwrap_err().code(), "MULTIPLE_HEADS");
    // rev@X: a revision as a branch name; X must share its lineage
    assert_eq!(resolve(&m, "f00d0001@abc").unwrap(), ["abc"]);
    assert_cant_locate(&m.get_revisions("feature@f00e0002").unwrap_err(), "UNKNOWN_REVISION", "f00e0002");
}

#[test]
fn negative_symbols_walk_down_from_the_heads() {
    let m = map(IDS);
    // `-N` alone walks from every head
    assert_eq!(resolve(&m, "-1").unwrap(), ["f00", "f00"]);
    assert_eq!(resolve(&m, "-2").unwrap(), ["abcdef01", "abcdef01"]);
    assert_eq!(resolve(&m, "fearless@-1").unwrap(), ["f00"]);
    assert_eq!(resolve(&m, "feature@-2").unwrap(), ["abcdef01"]);
    // `abc` is not a label of any head: no head to walk from
    assert_eq!(resolve(&m, "abc@-1").unwrap(), Vec::<String>::new());
    assert_cant_locate(&m.get_revisions("abcdef01@+1").unwrap_err(), "UNKNOWN_REVISION", "+1");
}

// ---------------------------------------------------------------------------------------
// ALEMBIC_NOTES 3: merges in the version table

#[test]
fn note3_merge_rows() {
    // Upgrading through a merge deletes all but one parent row and updates the last one.
    let m = map(DIAMOND);
    let mut db = Db::at(&m, &["d1left", "d2right"]);
    assert_eq!(db.upgrade("d3merge"), "d3merge del d1left upd d2right>d3merge");
    // Downgrading the merge updates its row and re-inserts the other parent.
    assert_trace(&db.downgrade("d1left"), "-d3merge {ins d1left upd d3merge>d2right|ins d2right upd d3merge>d1left}");
    assert_eq!(sorted(db.rows.clone()), ["d1left", "d2right"]);
}

#[test]
fn note3_unmerge_skips_parents_another_head_implies() {
    let m = map("a001\nb001 < a001\nc001 < a001\nm001 < b001 c001\nd001 < c001");
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("heads"), "a001 ins a001 c001 upd a001>c001 b001 ins b001 m001 del b001 upd c001>m001 d001 ins d001");
    assert_eq!(db.rows(), ["m001", "d001"]);
    // c001 is still implied by d001: only b001 comes back
    assert_eq!(db.downgrade("b001"), "-m001 upd m001>b001");
    assert_eq!(db.rows(), ["b001", "d001"]);
    // upgrading the merge again from one present parent is a plain UPDATE
    assert_eq!(db.upgrade("heads"), "m001 upd b001>m001");
    assert_trace(&db.downgrade("c001"), "-d001 del d001 -m001 {ins b001 upd m001>c001|ins c001 upd m001>b001}");
    assert_eq!(sorted(db.rows.clone()), ["b001", "c001"]);
}

#[test]
fn note3_parent_implied_by_a_dependency_is_deleted_not_moved_down() {
    // c001 is a base that depends on a001
    let m = map("a001\nb001 < a001\nc001 < &a001");
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade("heads"), "a001 ins a001 c001 upd a001>c001 b001 ins b001");
    assert_eq!(db.rows(), ["c001", "b001"]);
    assert_eq!(db.downgrade("a001"), "-b001 del b001");
    assert_eq!(db.rows(), ["c001"]);
    assert_eq!(db.downgrade("base"), "-c001 upd c001>a001 -a001 del a001");
    assert_eq!(db.upgrade("b001"), "a001 ins a001 b001 upd a001>b001");
    assert_eq!(db.upgrade("c001"), "c001 ins c001");
    assert_eq!(db.rows(), ["b001", "c001"]);
}

// ---------------------------------------------------------------------------------------
// ALEMBIC_NOTES 6 and 7: effective heads, `current` with dependencies

#[test]
fn note6_effective_heads() {
    let m = map("a001\nb001 < &a001");
    // `heads` (the command, and the `head` target) counts a001; the `heads` target does not
    assert_eq!(names(&m, &m.heads), ["a001", "b001"]);
    assert_eq!(names(&m, &m.real_heads), ["b001"]);
    assert_eq!(names(&m, &m.bases), ["a001", "b001"]);
    let mut db = Db::new(&m);
    assert_eq!(db.upgrade_err("head").code(), "MULTIPLE_HEADS");
    assert_eq!(db.upgrade("heads"), "a001 ins a001 b001 upd a001>b001");
    assert_eq!(db.rows(), ["b001"]);
    assert_eq!(db.upgrade("a001"), "", "a001 is implied by b001");
    assert_err(&db.downgrade_err("a001"), "INVALID_TARGET", "Destination a001 is not a valid downgrade target from current head(s)");
    assert_eq!(db.downgrade("base"), "-b001 upd b001>a001 -a001 del a001");
    // `stamp heads` uses the dependency-resolved heads too
    assert_eq!(db.stamp(&["heads"]), "ins b001");
    assert_eq!(db.rows(), ["b001"]);
}

#[test]
fn note7_current_includes_revisions_implied_by_dependencies() {
    let m = map("x1\ny1\ny2 < y1 &x1");
    let current = |rows: &[&str]| {
        let rows: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        sorted(names(&m, &m.all_current(&rows).unwrap()))
    };
    assert_eq!(current(&["y2"]), ["x1", "y2"]);
    assert_eq!(current(&["y1"]), ["y1"]);
    assert_eq!(current(&["x1", "y1"]), ["x1", "y1"]);
}

// ---------------------------------------------------------------------------------------
// ALEMBIC_NOTES 4: stamp

#[test]
fn note4_stamp_label_head_and_label_base_touch_one_branch() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.stamp(&["r03c1", "r05c2"]), "ins r03c1 ins r05c2");
    assert_eq!(db.stamp(&["shopping@head"]), "upd r03c1>r04d1");
    assert_eq!(db.rows(), ["r04d1", "r05c2"]);
    assert_eq!(db.stamp(&["billing@base"]), "del r05c2");
    assert_eq!(db.rows(), ["r04d1"]);
    assert_eq!(db.stamp(&["billing@head"]), "ins r06d2");
    assert_eq!(db.rows(), ["r04d1", "r06d2"]);
}

#[test]
fn note4_stamp_common_ancestor_collapses_heads() {
    let m = map(LABELLED);
    let mut db = Db::at(&m, &["r04d1", "r06d2"]);
    assert_eq!(db.stamp(&["r02b"]), "del r04d1 upd r06d2>r02b");
    assert_eq!(db.rows(), ["r02b"]);
    assert_eq!(db.stamp(&["heads"]), "upd r02b>r04d1 ins r06d2");
    assert_eq!(db.stamp(&["r01a"]), "del r04d1 upd r06d2>r01a");
    assert_eq!(db.stamp(&["base"]), "del r01a");
    assert!(db.rows.is_empty());
    // no migration ever runs
    let p = plan_stamp(&m, &[], &["heads".to_string()], false).unwrap();
    assert!(p.steps.iter().all(|s| s.kind == StepKind::Stamp));
}

#[test]
fn stamp_two_targets_naming_one_revision_stamps_it_once() {
    // Alembic tries the revision twice (an assertion from an empty table, a version-table
    // error from below it); athanor stamps it once, and never panics.
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.stamp(&["r04d1", "shopping@head"]), "ins r04d1");
    assert_eq!(db.rows(), ["r04d1"]);
    assert_eq!(db.stamp(&["r04d1", "r04d1"]), "");
    assert_eq!(db.rows(), ["r04d1"]);
    let mut db = Db::at(&m, &["r02b"]);
    assert_eq!(db.stamp(&["r04d1", "shopping@head"]), "upd r02b>r04d1");
    assert_eq!(db.rows(), ["r04d1"]);
}

#[test]
fn note4_stamp_several_targets_unchecked() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.stamp(&["r04d1", "r06d2"]), "ins r04d1 ins r06d2");
    assert_eq!(db.stamp(&["r05c2"]), "upd r06d2>r05c2");
    assert_eq!(db.stamp(&["sho"]), "upd r04d1>r03c1");
    assert_eq!(db.stamp(&["base"]), "del r03c1 del r05c2");
    // an ancestor and its descendant, stamped side by side: accepted
    assert_eq!(db.stamp(&["r03c1", "r04d1"]), "ins r03c1 ins r04d1");
    // ... and the next upgrade refuses it
    let e = db.upgrade_err("heads");
    assert_eq!(e.to_string(), "Requested revision r04d1 overlaps with other requested revisions r03c1");
    assert_eq!(db.stamp(&["shopping@head", "billing@head"]), "ins r06d2");
}

#[test]
fn stamp_more_forms() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.stamp(&["r02b"]), "ins r02b");
    assert_eq!(db.stamp(&["billing@head"]), "upd r02b>r06d2");
    assert_eq!(db.stamp(&["r01a"]), "upd r06d2>r01a");
    assert_eq!(db.stamp(&["shopping@head", "billing@head"]), "upd r01a>r04d1 ins r06d2");
    assert_eq!(db.stamp(&["base"]), "del r04d1 del r06d2");
    assert_eq!(db.stamp(&["r02b", "r06d2"]), "ins r02b ins r06d2");
    // the rows overlap, yet a downgrade still finds its way
    assert_eq!(db.downgrade("r01a"), "-r06d2 upd r06d2>r05c2 -r05c2 del r05c2 -r02b upd r02b>r01a");
    // both targets are above the row r01a: Alembic updates it for the first, then, the
    // row having moved, inserts the second
    assert_eq!(db.stamp(&["r04d1", "r02b"]), "upd r01a>r04d1 ins r02b");
    assert_eq!(db.stamp(&["base"]), "del r04d1 del r02b");
    assert_eq!(db.stamp(&["r02b"]), "ins r02b");
    assert_eq!(db.stamp(&["r04d1", "r02b"]), "upd r02b>r04d1");
    assert_eq!(db.stamp(&["shopping@r03c1"]), "upd r04d1>r03c1");
    assert_eq!(db.stamp(&["r03c1", "r06d2"]), "ins r06d2");
    assert_eq!(db.stamp(&["billing@r01a"]), "del r03c1 upd r06d2>r01a");
    assert_eq!(db.rows(), ["r01a"]);
}

#[test]
fn stamp_errors() {
    let m = map(LABELLED);
    let db = Db::new(&m);
    assert_cant_locate(&db.stamp_err(&["zzzz"]), "UNKNOWN_REVISION", "zzzz");
    assert_cant_locate(&db.stamp_err(&["r0"]), "AMBIGUOUS_REVISION", "r0");
    assert_cant_locate(&db.stamp_err(&["billing@+1"]), "UNKNOWN_REVISION", "+1");
}

// `-N` names the revisions N below each head; `stamp` takes it on an empty table, where
// Alembic has no rows to compare against it (`filter_for_lineage` of nothing).
#[test]
fn stamp_minus_n_on_an_empty_table() {
    let m = map(LABELLED);
    let mut db = Db::new(&m);
    assert_eq!(db.stamp(&["shopping@-1"]), "ins r03c1");
    assert_eq!(db.stamp(&["base"]), "del r03c1");
    assert_eq!(db.stamp(&["-1"]), "ins r03c1 ins r05c2");
    // with rows to compare, Alembic resolves '-1' as a revision, and fails
    assert_cant_locate(&db.stamp_err(&["-1"]), "UNKNOWN_REVISION", "-1");
}

// `_stamp_revs` words the multiple-heads error its own way.
#[test]
fn stamp_head_with_several_heads() {
    let m = map(LABELLED);
    let db = Db::new(&m);
    assert_err(&db.stamp_err(&["head"]), "MULTIPLE_HEADS", "Multiple heads are present; please specify a single target revision");
}

#[test]
fn stamp_purge_replaces_every_row() {
    let m = map(LABELLED);
    // rows that no revision explains (another project's, or a newer one's) block a stamp...
    let junk = Db::at(&m, &["deadbeef0000", "r03c1"]);
    let code = junk.stamp_err(&["r02b"]).code();
    assert!(code == "DATABASE_AHEAD" || code == "UNKNOWN_REVISION", "{code}");
    // ... unless --purge empties the table first
    let p = plan_stamp(&m, &junk.rows, &["r02b".to_string()], true).unwrap();
    assert!(p.purge);
    assert_eq!(p.after, ["r02b"]);
    assert_eq!(trace(&m, &p), "ins r02b");
    // --purge also clears overlapping rows
    let p = plan_stamp(&m, &["r03c1".to_string(), "r04d1".to_string()], &["r02b".to_string()], true).unwrap();
    assert_eq!(p.after, ["r02b"]);
    check_ops(&p);
}
