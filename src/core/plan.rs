//! The planner: the ordered steps of an upgrade, downgrade or stamp, each with the
//! version-table changes Alembic's `HeadMaintainer` would make. Pure: the rows of the
//! version table come in as data.

use std::collections::BTreeSet;

use super::hash::{HashMap, HashSet};

use super::closure::Implied;
use super::error::{Error, Result};
use super::graph::{Edges, RevisionMap};
use super::target::match_relative;
use super::walk::{CollectError, Spec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionOp {
    Insert(String),
    Delete(String),
    Update { from: String, to: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Upgrade(usize),
    Downgrade(usize),
    Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    /// Alembic's `from_revisions_no_deps` / `to_revisions_no_deps`, for logs.
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub ops: Vec<VersionOp>,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self.kind {
            StepKind::Upgrade(_) => "upgrade",
            StepKind::Downgrade(_) => "downgrade",
            StepKind::Stamp => "stamp_revision",
        }
    }
    pub fn revision(&self) -> Option<usize> {
        match self.kind {
            StepKind::Upgrade(r) | StepKind::Downgrade(r) => Some(r),
            StepKind::Stamp => None,
        }
    }
    /// `upgrade a -> b` as in Alembic's `-- Running ...` comment.
    pub fn short_log(&self) -> String {
        let mut out = String::new();
        self.write_short_log(&mut out);
        out
    }
    /// `upgrade a -> b, message` as in Alembic's `Running ...` log line.
    pub fn log(&self, map: &RevisionMap) -> String {
        let mut out = String::new();
        self.write_log(map, &mut out);
        out
    }
    /// [`Step::log`] appended to `out`: pieces pushed, no formatting machinery (the
    /// npm CLI writes 1,000 of these in an upgrade of 1,000, in V8's baseline tier).
    pub fn write_log(&self, map: &RevisionMap, out: &mut String) {
        self.write_short_log(out);
        if let Some(r) = self.revision() {
            let doc = map.node(r).script.doc();
            if !doc.is_empty() {
                out.push_str(", ");
                out.push_str(&doc);
            }
        }
    }
    fn write_short_log(&self, out: &mut String) {
        out.push_str(self.name());
        out.push(' ');
        push_joined(out, &self.from);
        out.push_str(" -> ");
        push_joined(out, &self.to);
    }
}

fn push_joined(out: &mut String, items: &[String]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Version-table rows before, in rowid order.
    pub before: Vec<String>,
    /// Version-table rows after every step, in rowid order.
    pub after: Vec<String>,
    pub steps: Vec<Step>,
    /// `stamp --purge`: every row is deleted first.
    pub purge: bool,
    /// Warnings Alembic prints (e.g. `downgrade -1` from several heads).
    pub warnings: Vec<String>,
}

/// The version table's rows as Alembic's `HeadMaintainer` keeps them, in rowid order
/// (an UPDATE keeps a row's place; an INSERT goes last). Indexed by value, so a step
/// costs the same with one row or twenty thousand.
struct Heads {
    /// Rows in rowid order; `None` where a row was deleted.
    slots: Vec<Option<String>>,
    /// Where each value sits (its first slot, should the caller's rows repeat one).
    at: HashMap<String, usize>,
    /// The rows given repeat a value: a removal looks for another copy.
    repeats: bool,
}

impl Heads {
    fn new(rows: &[String]) -> Heads {
        let mut at = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
        for (i, r) in rows.iter().enumerate() {
            at.entry(r.clone()).or_insert(i);
        }
        let repeats = at.len() != rows.len();
        Heads { slots: rows.iter().cloned().map(Some).collect(), at, repeats }
    }
    fn rows(&self) -> Vec<String> {
        self.slots.iter().flatten().cloned().collect()
    }
    /// How many different values the rows hold.
    fn distinct(&self) -> usize {
        self.at.len()
    }
    fn contains(&self, r: &str) -> bool {
        self.at.contains_key(r)
    }
    /// Drops `v` from the index (its slot is gone or holds another value); a repeated
    /// value keeps its next copy indexed.
    fn unindex(&mut self, v: &str) {
        self.at.remove(v);
        if self.repeats {
            if let Some(i) = self.slots.iter().position(|x| x.as_deref() == Some(v)) {
                self.at.insert(v.to_string(), i);
            }
        }
    }
    fn insert(&mut self, ops: &mut Vec<VersionOp>, v: &str) -> Result<()> {
        if self.contains(v) {
            return Err(Error::VersionTable(format!("revision {v} is already in the version table")));
        }
        self.at.insert(v.to_string(), self.slots.len());
        self.slots.push(Some(v.to_string()));
        ops.push(VersionOp::Insert(v.to_string()));
        Ok(())
    }
    fn delete(&mut self, ops: &mut Vec<VersionOp>, v: &str) -> Result<()> {
        let Some(&at) = self.at.get(v) else {
            return Err(Error::VersionTable(format!("Online migration expected to match one row when deleting '{v}'; 0 found")));
        };
        self.slots[at] = None;
        self.unindex(v);
        ops.push(VersionOp::Delete(v.to_string()));
        Ok(())
    }
    fn update(&mut self, ops: &mut Vec<VersionOp>, from: &str, to: &str) -> Result<()> {
        if self.contains(to) {
            return Err(Error::VersionTable(format!("revision {to} is already in the version table")));
        }
        let Some(&at) = self.at.get(from) else {
            return Err(Error::VersionTable(format!("Online migration expected to match one row when updating '{from}' to '{to}'; 0 found")));
        };
        self.slots[at] = Some(to.to_string());
        self.unindex(from);
        self.at.insert(to.to_string(), at);
        ops.push(VersionOp::Update { from: from.to_string(), to: to.to_string() });
        Ok(())
    }
}

/// The version-table changes of one migration step (`HeadMaintainer.update_to_step`
/// with a `RevisionStep`). `implied` is what the rows imply before the step (built
/// here if not given).
fn revision_step_ops(map: &RevisionMap, implied: Option<&Implied>, heads: &mut Heads, rev: usize, upgrade: bool) -> Result<Vec<VersionOp>> {
    let mut ops = Vec::new();
    let node = map.node(rev);
    let id = node.id();
    let down_revs = node.normalized_down();
    let down: Vec<String> = down_revs.iter().map(|&d| map.id(d).to_string()).collect();
    let is_row = |r: usize| heads.contains(map.id(r));
    // Which of this step's down revisions the rows other than `exclude` imply (Alembic
    // unions the other rows' ancestors). When no down revision is an ancestor of
    // another, a look at the neighbours tells: (upgrade, `exclude` = the down revisions'
    // rows) `d` is implied when a child of `d` is; (downgrade, `exclude` = this
    // revision's row) when `d` is another row, has an implied child besides this
    // revision, or this revision is itself below another row. Else a walk up from `d`.
    let implied_by_others = |exclude: &[String]| -> BTreeSet<String> {
        let built;
        let implied = match implied {
            Some(i) => i,
            None => {
                // The caller builds it for every step that may ask; correct anyway.
                built = Implied::new(map, heads.rows().iter().filter_map(|r| map.index_of(r)));
                &built
            }
        };
        let children_inside = |r: usize| implied.children_inside(r, is_row(r));
        super::order::set(
            down_revs
                .iter()
                .filter(|&&d| {
                    if !node.independent_down {
                        implied.below_row(d, |r| is_row(r) && !exclude.iter().any(|e| e == map.id(r)))
                    } else if upgrade {
                        children_inside(d) > 0
                    } else {
                        (is_row(d) && d != rev) || children_inside(d) > 1 || children_inside(rev) > 0
                    }
                })
                .map(|&d| map.id(d).to_string()),
        )
    };
    if upgrade {
        let present = down.iter().filter(|d| heads.contains(d)).count();
        if down.is_empty() || present == 0 {
            heads.insert(&mut ops, id)?;
        } else if down.len() > 1 && present > 1 {
            // Merge: delete all but one parent row, update the last.
            let others_exist = heads.distinct() > present;
            let from: Vec<String> = if others_exist {
                let anc = implied_by_others(&down);
                down.iter().filter(|d| !anc.contains(*d)).cloned().collect()
            } else {
                down.clone()
            };
            let (last, rest) = from.split_last().ok_or_else(|| Error::VersionTable(format!("merge {id} has no parent row to update")))?;
            for d in rest {
                heads.delete(&mut ops, d)?;
            }
            heads.update(&mut ops, last, id)?;
        } else {
            let from = if down.len() == 1 {
                down[0].clone()
            } else {
                let present: Vec<&String> = down.iter().filter(|d| heads.contains(d)).collect();
                if present.len() != 1 {
                    return Err(Error::VersionTable("Can't do an UPDATE because downrevision is ambiguous".into()));
                }
                present[0].clone()
            };
            heads.update(&mut ops, &from, id)?;
        }
        return Ok(ops);
    }
    // Downgrade.
    let in_heads = heads.contains(id);
    let unmerge_to = || -> Vec<String> {
        let me = vec![id.to_string()];
        if heads.distinct() > usize::from(in_heads) {
            let anc = implied_by_others(&me);
            down.iter().filter(|d| !anc.contains(*d)).cloned().collect()
        } else if node.independent_down {
            down.clone()
        } else {
            // Down revisions below another one of them.
            let mut below = HashSet::default();
            for &t in &down_revs {
                for a in map.ancestor_set(&[t], Edges::Normalized).iter() {
                    if a != t {
                        below.insert(a);
                    }
                }
            }
            down_revs.iter().filter(|d| !below.contains(*d)).map(|&d| map.id(d).to_string()).collect()
        }
    };
    if in_heads && (down.is_empty() || unmerge_to().is_empty()) {
        heads.delete(&mut ops, id)?;
    } else if in_heads && down.len() > 1 {
        let to = unmerge_to();
        let (last, rest) = to.split_last().ok_or_else(|| Error::VersionTable(format!("unmerge of {id} has no target")))?;
        for r in rest {
            heads.insert(&mut ops, r)?;
        }
        heads.update(&mut ops, id, last)?;
    } else {
        let to = if down.len() == 1 {
            down[0].clone()
        } else {
            let present: Vec<&String> = down.iter().filter(|d| heads.contains(d)).collect();
            if present.len() != 1 {
                return Err(Error::VersionTable("Can't do an UPDATE because downrevision is ambiguous".into()));
            }
            present[0].clone()
        };
        heads.update(&mut ops, id, &to)?;
    }
    Ok(ops)
}

/// Brings `implied` up to date with `ops`: rows added first, so that moving a row down
/// a chain costs one revision, not a walk out of the set and back in.
fn track(map: &RevisionMap, implied: &mut Implied, ops: &[VersionOp]) {
    let index = |v: &str| map.index_of(v);
    for op in ops {
        if let VersionOp::Insert(v) | VersionOp::Update { to: v, .. } = op {
            if let Some(i) = index(v) {
                implied.add(i);
            }
        }
    }
    for op in ops {
        if let VersionOp::Delete(v) | VersionOp::Update { from: v, .. } = op {
            if let Some(i) = index(v) {
                implied.remove(i);
            }
        }
    }
}

/// The rows after `ops`, in rowid order (an UPDATE keeps a row's place, an INSERT goes
/// last). Unchecked: the planner has already checked every op against the rows.
pub fn apply_ops(mut rows: Vec<String>, ops: &[VersionOp]) -> Vec<String> {
    for op in ops {
        match op {
            VersionOp::Insert(v) => rows.push(v.clone()),
            VersionOp::Delete(v) => rows.retain(|r| r != v),
            VersionOp::Update { from, to } => rows.iter_mut().filter(|r| *r == from).for_each(|r| *r = to.clone()),
        }
    }
    rows
}

/// The net effect of `ops` on rows `before`, as few statements as possible: deletes,
/// then updates (a row keeps its place), then inserts (in order, so rowid order is the
/// same as applying every op). `None` when reordering could clash on the primary key;
/// then the ops are applied one by one.
pub fn net_ops<'a>(before: &'a [String], ops: impl IntoIterator<Item = &'a VersionOp>) -> Option<Vec<VersionOp>> {
    // Each row: which original row it descends from (None: inserted), and its value
    // (borrowed: a flush of 1,000 steps copies only what it writes).
    let mut rows: Vec<(Option<usize>, &str)> = before.iter().enumerate().map(|(i, v)| (Some(i), v.as_str())).collect();
    for op in ops {
        match op {
            VersionOp::Insert(v) => rows.push((None, v)),
            VersionOp::Delete(v) => {
                let at = rows.iter().position(|(_, x)| x == v)?;
                rows.remove(at);
            }
            VersionOp::Update { from, to } => {
                let at = rows.iter().position(|(_, x)| x == from)?;
                rows[at].1 = to;
            }
        }
    }
    let mut deletes = Vec::new();
    let mut updates = Vec::new();
    for (i, old) in before.iter().enumerate() {
        match rows.iter().find(|(o, _)| *o == Some(i)) {
            None => deletes.push(VersionOp::Delete(old.clone())),
            Some((_, new)) if new != old => {
                if before.iter().any(|b| b == new) {
                    return None;
                }
                updates.push(VersionOp::Update { from: old.clone(), to: new.to_string() });
            }
            Some(_) => {}
        }
    }
    let inserts = rows.into_iter().filter(|(o, _)| o.is_none()).map(|(_, v)| VersionOp::Insert(v.to_string()));
    Some(deletes.into_iter().chain(updates).chain(inserts).collect())
}

/// The rows are exactly what `heads` names (or `head`, when there is one head): nothing
/// to do, as the full walk finds, without walking the history. Most runs end here (a
/// page load, a cold start, `upgrade head` in CI), and the walk over 1,000 revisions is
/// most of the at-head check. Heads are never ancestors of one another, so such rows
/// cannot overlap (what the walk checks them for).
fn at_target_heads(map: &RevisionMap, rows: &[String], target: &str) -> bool {
    let heads = match target {
        "heads" => &map.real_heads,
        "head" if map.heads.len() == 1 => &map.heads,
        _ => return false,
    };
    // Past a few heads the count below is quadratic: leave those to the walk.
    !heads.is_empty()
        && heads.len() <= 64
        && rows.len() == heads.len()
        && heads.iter().all(|&h| rows.iter().filter(|r| r.as_str() == map.id(h)).count() == 1)
}

fn check_rows(map: &RevisionMap, rows: &[String]) -> Result<()> {
    for r in rows {
        if map.index_of(r).is_none() {
            return Err(Error::DatabaseAhead { revision: r.clone() });
        }
    }
    Ok(())
}

fn revision_steps(map: &RevisionMap, rows: &[String], order: &[usize], upgrade: bool) -> Result<Plan> {
    let mut heads = Heads::new(rows);
    // Built at the first step that may ask it (a merge, or a downgrade beside other
    // rows), from the rows then: a plain chain never pays for it.
    let mut implied: Option<Implied> = None;
    let mut steps = Vec::with_capacity(order.len());
    for &rev in order {
        let node = map.node(rev);
        let parents: Vec<String> = node.parents.iter().map(|&p| map.id(p).to_string()).collect();
        let me = vec![node.id().to_string()];
        let may_ask = node.parents.len() + node.norm_deps.len() > 1 || (!upgrade && heads.distinct() > 1);
        if may_ask && implied.is_none() {
            implied = Some(Implied::new(map, heads.rows().iter().filter_map(|r| map.index_of(r))));
        }
        let ops = match &implied {
            Some(i) => revision_step_ops(map, Some(i), &mut heads, rev, upgrade)?,
            None => revision_step_ops(map, None, &mut heads, rev, upgrade)?,
        };
        if let Some(i) = &mut implied {
            track(map, i, &ops);
        }
        let (kind, from, to) = if upgrade { (StepKind::Upgrade(rev), parents, me) } else { (StepKind::Downgrade(rev), me, parents) };
        steps.push(Step { kind, from, to, ops });
    }
    Ok(Plan { before: rows.to_vec(), after: heads.rows(), steps, purge: false, warnings: vec![] })
}

/// Alembic names the target as typed in a multiple-heads error (`head-1`, not `head`).
fn as_typed(target: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::MultipleHeads { heads, .. } => Error::multiple_heads(target, heads),
        other => other,
    }
}

/// Plans `upgrade TARGET` from the version table's `rows`.
pub fn plan_upgrade(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    plan_upgrade_inner(map, rows, target).map_err(as_typed(target))
}

fn plan_upgrade_inner(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    check_rows(map, rows)?;
    if at_target_heads(map, rows, target) {
        return revision_steps(map, rows, &[], true);
    }
    walk_upgrade(map, rows, target)
}

/// `plan_upgrade` by the full walk, even at the heads (tests hold the shortcut to it).
#[doc(hidden)]
pub fn plan_upgrade_walk(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    check_rows(map, rows)?;
    walk_upgrade(map, rows, target).map_err(as_typed(target))
}

fn walk_upgrade(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    let (needs, targets) = match map.collect_upgrade(&Spec::Expr(target.to_string()), &Spec::Rows(rows.to_vec()), false, true, true) {
        Ok(v) => v,
        Err(CollectError::NotAncestor) => {
            return Err(Error::InvalidTarget(format!("Destination {target} is not a valid upgrade target from current head(s)")))
        }
        Err(CollectError::Other(e)) => return Err(e),
    };
    let mut order = map.topological_sort(&needs, &targets)?;
    order.reverse();
    revision_steps(map, rows, &order, true)
}

/// Plans `downgrade TARGET` from the version table's `rows`. Fails before anything
/// runs if a revision on the way has no downgrade section.
pub fn plan_downgrade(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    plan_downgrade_inner(map, rows, target).map_err(as_typed(target))
}

fn plan_downgrade_inner(map: &RevisionMap, rows: &[String], target: &str) -> Result<Plan> {
    check_rows(map, rows)?;
    let mut warnings = vec![];
    if let Some((None, None, n, _)) = match_relative(target) {
        if n < 0 && super::order::set(rows).len() > 1 {
            warnings.push("downgrade -1 from multiple heads is ambiguous; this usage will be disallowed in a future release.".to_string());
        }
    }
    let (revs, heads) = match map.collect_downgrade(rows, target, false, false, true) {
        Ok(v) => v,
        Err(CollectError::NotAncestor) => {
            return Err(Error::InvalidTarget(format!("Destination {target} is not a valid downgrade target from current head(s)")))
        }
        Err(CollectError::Other(e)) => return Err(e),
    };
    let order = map.topological_sort(&revs, &heads)?;
    for &r in &order {
        let s = &map.node(r).script;
        if s.downgrade.is_none() {
            return Err(Error::Irreversible { revision: s.id.clone(), file: s.path.clone() });
        }
    }
    let mut plan = revision_steps(map, rows, &order, false)?;
    plan.warnings = warnings;
    Ok(plan)
}

/// Plans exactly `revisions`, in the order given, from `rows`: upgraded (each one's
/// parents applied) or downgraded (each one a head of what is applied). What `test`
/// walks: one revision at a time, whatever the other branches hold. A downgrade through
/// a revision without a downgrade section is `IRREVERSIBLE` before anything runs.
pub fn plan_revisions(map: &RevisionMap, rows: &[String], revisions: &[usize], upgrade: bool) -> Result<Plan> {
    check_rows(map, rows)?;
    if !upgrade {
        if let Some(s) = revisions.iter().map(|&r| &map.node(r).script).find(|s| s.downgrade.is_none()) {
            return Err(Error::Irreversible { revision: s.id.clone(), file: s.path.clone() });
        }
    }
    revision_steps(map, rows, revisions, upgrade)
}

/// Plans `stamp TARGET...` (`--purge` deletes every row first). Runs no migration.
pub fn plan_stamp(map: &RevisionMap, rows: &[String], targets: &[String], purge: bool) -> Result<Plan> {
    let rows: Vec<String> = if purge { vec![] } else { rows.to_vec() };
    check_rows(map, &rows)?;
    let multiple = |e: Error| match e {
        Error::MultipleHeads { argument, heads, .. } => {
            Error::MultipleHeads { argument, heads, message: "Multiple heads are present; please specify a single target revision".into() }
        }
        other => other,
    };
    let head_revs: Vec<usize> = rows.iter().filter_map(|r| map.index_of(r)).collect();
    let targets: Vec<String> = if targets.is_empty() { vec!["base".into()] } else { targets.to_vec() };
    let mut filtered: Vec<usize> = Vec::new();
    for t in &targets {
        for h in map.filter_for_lineage(&head_revs, t, true).map_err(multiple)? {
            if !filtered.contains(&h) {
                filtered.push(h);
            }
        }
    }
    let mut dests: Vec<Option<usize>> = map.get_revisions_all(&targets).map_err(multiple)?.into_iter().map(|p| p.rev()).collect();
    if dests.is_empty() {
        dests.push(None);
    }
    // Two targets naming one revision (`stamp b2b2 head` where head is b2b2) stamp it
    // once; Alembic would try it twice and fail on its own first change.
    let mut seen = BTreeSet::new();
    dests.retain(|d| seen.insert(*d));
    let mut heads = Heads::new(&rows);
    let mut steps = Vec::new();
    let ids = |v: &[usize]| v.iter().map(|&i| map.id(i).to_string()).collect::<Vec<_>>();
    for dest in dests {
        let step = match dest {
            None => {
                for &h in &filtered {
                    let mut ops = vec![];
                    heads.delete(&mut ops, map.id(h))?;
                    steps.push(Step { kind: StepKind::Stamp, from: vec![map.id(h).to_string()], to: vec![], ops });
                }
                continue;
            }
            Some(d) if filtered.contains(&d) => continue,
            Some(d) => d,
        };
        let descendants: BTreeSet<usize> = super::order::set(map.descendants(&[step], Edges::All));
        let ancestors: BTreeSet<usize> = super::order::set(map.ancestors(&[step], Edges::Normalized));
        let to = vec![map.id(step).to_string()];
        let (from, is_upgrade, branch_move) = if filtered.iter().any(|h| descendants.contains(h)) {
            (ids(&filtered), false, false)
        } else if filtered.iter().any(|h| ancestors.contains(h)) {
            (ids(&filtered), true, false)
        } else {
            (vec![], true, true)
        };
        let mut ops = vec![];
        if !is_upgrade && branch_move {
            heads.delete(&mut ops, &from[0])?;
        } else if is_upgrade && (branch_move || from.iter().any(|f| !heads.contains(f))) && to.iter().any(|t| !heads.contains(t)) {
            heads.insert(&mut ops, &to[0])?;
        } else if from.len() > 1 {
            let (last, rest) = from.split_last().ok_or_else(|| Error::VersionTable("empty stamp".into()))?;
            for r in rest {
                heads.delete(&mut ops, r)?;
            }
            heads.update(&mut ops, last, &to[0])?;
        } else {
            let first = from.first().ok_or_else(|| Error::InvalidTarget(format!("cannot stamp to {}: no current revision to move from", to[0])))?;
            heads.update(&mut ops, first, &to[0])?;
        }
        steps.push(Step { kind: StepKind::Stamp, from, to, ops });
    }
    Ok(Plan { before: rows, after: heads.rows(), steps, purge, warnings: vec![] })
}

#[cfg(test)]
mod tests {
    use super::{net_ops, VersionOp};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }
    fn up(a: &str, b: &str) -> VersionOp {
        VersionOp::Update { from: a.into(), to: b.into() }
    }

    #[test]
    fn a_chain_of_updates_is_one_update() {
        let ops = vec![up("a", "b"), up("b", "c"), up("c", "d")];
        assert_eq!(net_ops(&s(&["a"]), &ops), Some(vec![up("a", "d")]));
    }

    #[test]
    fn inserts_keep_order_and_deleted_rows_go_first() {
        let ops = vec![
            VersionOp::Insert("x".into()),
            up("a", "b"),
            VersionOp::Delete("c".into()),
            VersionOp::Insert("y".into()),
            VersionOp::Delete("x".into()),
        ];
        assert_eq!(net_ops(&s(&["a", "c"]), &ops), Some(vec![VersionOp::Delete("c".into()), up("a", "b"), VersionOp::Insert("y".into())]));
    }

    #[test]
    fn nothing_when_back_where_it_started() {
        assert_eq!(net_ops(&s(&["a"]), &[up("a", "b"), up("b", "a")]), Some(vec![]));
    }

    #[test]
    fn clashing_reorders_fall_back() {
        // Row 0 becomes "b" while row 1 still holds "b" until its own update.
        let ops = vec![up("b", "c"), up("a", "b")];
        assert_eq!(net_ops(&s(&["a", "b"]), &ops), None);
    }
}
