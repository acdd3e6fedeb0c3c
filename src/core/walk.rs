//! Which revisions an upgrade, downgrade or history range covers, and the order
//! Alembic visits them in (`_collect_upgrade_revisions`, `_collect_downgrade_revisions`,
//! `_topological_sort`).

use std::collections::BTreeSet;

use super::bitset::BitSet;
use super::closure::Implied;
use super::error::{Error, Result};
use super::graph::{Edges, RevisionMap};
use super::target::Pos;

/// One side of a range: a symbol the user wrote, or the version table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Expr(String),
    Rows(Vec<String>),
}

impl Spec {
    pub fn to_list(&self) -> Vec<String> {
        match self {
            Spec::Expr(s) => vec![s.clone()],
            Spec::Rows(r) => r.clone(),
        }
    }
    fn expr(&self) -> Option<&str> {
        match self {
            Spec::Expr(s) => Some(s),
            Spec::Rows(_) => None,
        }
    }
}

/// `NotAncestor` is raised where Alembic raises `RangeNotAncestorError`; callers word it.
pub enum CollectError {
    NotAncestor,
    Other(Error),
}

impl From<Error> for CollectError {
    fn from(e: Error) -> Self {
        CollectError::Other(e)
    }
}

fn revs(p: Vec<Pos>) -> Vec<usize> {
    p.into_iter().filter_map(Pos::rev).collect()
}

impl RevisionMap {
    /// `revisions` as a set over this map's revisions.
    fn bit_set(&self, revisions: impl IntoIterator<Item = usize>) -> BitSet {
        let mut set = BitSet::new(self.len());
        set.extend(revisions);
        set
    }

    fn resolve_spec(&self, spec: &Spec) -> Result<Vec<Pos>> {
        self.get_revisions_all(&spec.to_list())
    }

    /// `_collect_upgrade_revisions`: what must be applied to go from `lower` to `upper`.
    pub fn collect_upgrade(
        &self,
        upper: &Spec,
        lower: &Spec,
        inclusive: bool,
        implicit_base: bool,
        assert_len: bool,
    ) -> Result<(BitSet, Vec<usize>), CollectError> {
        let mut targets = match upper {
            Spec::Expr(t) => revs(self.parse_upgrade_target(&lower.to_list(), t, assert_len)?),
            Spec::Rows(_) => revs(self.resolve_spec(upper)?),
        };
        if let Some(branch) = lower.expr().and_then(|l| l.split_once('@')).map(|(b, _)| b) {
            let mut branch = branch.to_string();
            if let Some(r) = self.get_revision(&branch)? {
                if self.id(r) == branch {
                    // A revision used as a label stands for its branch.
                    let labels = &self.node(r).labels;
                    if labels.len() != 1 {
                        return Err(Error::InvalidTarget(format!("revision {branch} has no single branch label")).into());
                    }
                    branch = labels.iter().next().cloned().unwrap_or_default();
                }
            }
            targets.retain(|&t| self.node(t).labels.contains(&branch));
        }
        let mut required = self.bit_set(self.ancestors_checked(&targets, Edges::Normalized)?);
        required.extend(targets.iter().copied());

        let mut lower = lower.clone();
        let mut current = self.resolve_spec(&lower)?;
        if !implicit_base && current.iter().any(|p| matches!(p, Pos::Rev(r) if !required.contains(*r))) {
            return Err(CollectError::NotAncestor);
        }
        if current.first() == Some(&Pos::Nothing) {
            if let Some(l) = lower.expr().map(String::from) {
                let (_, rev) = self.parse_downgrade_target(&upper.to_list(), &l, assert_len)?;
                match rev {
                    Pos::Rev(r) => {
                        current = vec![Pos::Rev(r)];
                        lower = Spec::Expr(self.id(r).to_string());
                    }
                    _ => {
                        current = vec![];
                        lower = Spec::Expr("base".into());
                    }
                }
            }
        }
        let current = revs(current);
        // Overlapping rows are the version table's fault, not the target's.
        let checked = self.ancestors_checked(&current, Edges::Normalized).map_err(|e| match (e, &lower) {
            (Error::InvalidTarget(m), Spec::Rows(_)) => Error::VersionTable(m),
            (e, _) => e,
        })?;
        let mut current_set = self.bit_set(checked);
        current_set.extend(current.iter().copied());
        let mut needs = required;
        needs.difference_with(&current_set);
        if inclusive {
            needs.extend(revs(self.resolve_spec(&lower)?));
        }
        if !current.is_empty() && !implicit_base {
            needs.intersect_with(&self.bit_set(self.descendants_checked(&current, Edges::Versioned)?));
        }
        Ok((needs, targets))
    }

    /// `_collect_downgrade_revisions`: what must be undone to go from the rows in
    /// `upper` down to `lower`.
    pub fn collect_downgrade(
        &self,
        upper: &[String],
        lower: &str,
        inclusive: bool,
        implicit_base: bool,
        assert_len: bool,
    ) -> Result<(BitSet, Vec<usize>), CollectError> {
        let (label, target) = self.parse_downgrade_target(upper, lower, assert_len)?;
        let target = target.rev();
        let mut roots: Vec<usize> = match target {
            None => (0..self.len()).filter(|&i| self.node(i).parents.is_empty()).collect(),
            Some(t) if inclusive => vec![t],
            Some(t) => self.node(t).next.clone(),
        };
        if let Some(label) = &label {
            if roots.len() > 1 {
                let branch = self.revision_for_ident(Some(label), None)?.ok_or_else(|| Error::InvalidTarget(format!("No such branch: '{label}'")))?;
                let ancestors = self.ancestor_set(&[branch], Edges::Versioned);
                roots.retain(|&r| ancestors.contains(r));
                if roots.is_empty() {
                    return Err(Error::InvalidTarget("Not a valid downgrade target from current heads".into()).into());
                }
            }
        }
        let heads = revs(self.get_revisions_all(upper)?);
        let active = self.ancestor_set(&heads, Edges::Normalized);
        let mut down = self.bit_set(self.descendants(&roots, Edges::All).into_iter().filter(|&r| active.contains(r)));
        if implicit_base {
            let keep = self.ancestor_set(&roots, Edges::Normalized);
            down.extend(active.iter().filter(|&a| !keep.contains(a)));
        }
        if let Some(t) = target {
            if down.is_empty() && !heads.contains(&t) {
                return Err(CollectError::NotAncestor);
            }
        }
        Ok((down, heads))
    }

    /// `_topological_sort`: revisions from the heads down, switching to another head
    /// before emitting anything that head still needs.
    ///
    /// Alembic keeps each pending head's ancestor set; here one count of what all the
    /// pending heads imply (`Implied`) answers "does another head need this?" at the
    /// candidate itself (it has an implied child), and only then a walk up from it finds
    /// which head comes first. The heads are a linked list in Alembic's list order (a
    /// slot keeps its place when its head moves down; new heads go last), so the slot's
    /// number is its order.
    pub fn topological_sort(&self, revisions: &BitSet, heads: &[usize]) -> Result<Vec<usize>> {
        const NONE: usize = usize::MAX;
        let mut todo = vec![false; self.len()];
        let mut left = 0;
        for r in revisions.iter() {
            todo[r] = true;
            left += 1;
        }
        let initial: BTreeSet<usize> = super::order::set(heads.iter().copied().filter(|&h| todo[h]));
        // Slots: (revision, previous slot, next slot).
        let mut slots: Vec<(usize, usize, usize)> = Vec::with_capacity(initial.len());
        let mut slot_of = vec![NONE; self.len()];
        let mut first = NONE;
        let mut last = NONE;
        let mut implied = Implied::new(self, initial.iter().copied());
        let push = |slots: &mut Vec<(usize, usize, usize)>, slot_of: &mut Vec<usize>, first: &mut usize, last: &mut usize, rev: usize| {
            let s = slots.len();
            slots.push((rev, *last, NONE));
            if *last == NONE {
                *first = s;
            } else {
                slots[*last].2 = s;
            }
            *last = s;
            slot_of[rev] = s;
        };
        for &h in &initial {
            push(&mut slots, &mut slot_of, &mut first, &mut last, h);
        }
        let mut out = Vec::with_capacity(left);
        let mut idx = first;
        while idx != NONE {
            let candidate = slots[idx].0;
            if implied.children_inside(candidate, true) > 0 {
                // Another head needs it: go to the first of those in list order.
                idx = self.first_head_above(candidate, &implied, &slot_of);
                continue;
            }
            if todo[candidate] {
                todo[candidate] = false;
                left -= 1;
                out.push(candidate);
            }
            let node = self.node(candidate);
            let add: Vec<usize> = node.normalized_down().into_iter().filter(|&r| todo[r] && slot_of[r] == NONE).collect();
            if add.is_empty() {
                let (_, prev, next) = slots[idx];
                if prev == NONE {
                    first = next;
                } else {
                    slots[prev].2 = next;
                }
                if next == NONE {
                    last = prev;
                } else {
                    slots[next].1 = prev;
                }
                slot_of[candidate] = NONE;
                implied.remove(candidate);
                idx = if prev == NONE { first } else { prev };
            } else {
                slots[idx].0 = add[0];
                slot_of[add[0]] = idx;
                slot_of[candidate] = NONE;
                implied.add(add[0]);
                for &h in &add[1..] {
                    push(&mut slots, &mut slot_of, &mut first, &mut last, h);
                    implied.add(h);
                }
                implied.remove(candidate);
            }
        }
        if left > 0 {
            let left: Vec<&str> = revisions.iter().filter(|&r| todo[r]).map(|r| self.id(r)).collect();
            return Err(Error::InvalidTarget(format!("revisions {} are not reachable from the given heads", left.join(", "))));
        }
        Ok(out)
    }

    /// The pending head above `rev` that comes first in list order (lowest slot).
    fn first_head_above(&self, rev: usize, implied: &Implied, slot_of: &[usize]) -> usize {
        let mut best = usize::MAX;
        let mut seen = super::hash::HashSet::default();
        let mut todo = vec![rev];
        while let Some(x) = todo.pop() {
            if x != rev && slot_of[x] != usize::MAX {
                best = best.min(slot_of[x]);
            }
            for &c in &self.node(x).all_next {
                if implied.contains(c) && seen.insert(c) {
                    todo.push(c);
                }
            }
        }
        best
    }

    /// `walk_revisions(base, head)`: the revisions of a history range, newest first.
    ///
    /// Errors are worded as Alembic's `_catch_revision_errors(start=base, end=head)`
    /// words them: the sides as `%s` formats them (the version table's rows are a Python
    /// tuple, `('a1',)`), and a multiple-heads error names the range's end whichever side
    /// had the several heads (`history -r label@head:` names `heads`).
    pub fn walk_revisions(&self, base: &Spec, head: &Spec) -> Result<Vec<usize>> {
        let show = |s: &Spec| match s {
            Spec::Expr(e) => e.clone(),
            Spec::Rows(r) if r.len() == 1 => format!("('{}',)", r[0]),
            Spec::Rows(r) => format!("({})", r.iter().map(|x| format!("'{x}'")).collect::<Vec<_>>().join(", ")),
        };
        let (needs, heads) = match self.collect_upgrade(head, base, true, false, false) {
            Ok(v) => v,
            Err(CollectError::NotAncestor) => {
                return Err(Error::InvalidTarget(format!(
                    "Requested range {}:{} does not refer to ancestor/descendant revisions along the same branch",
                    show(base),
                    show(head)
                )))
            }
            Err(CollectError::Other(Error::MultipleHeads { heads, .. })) => return Err(Error::multiple_heads(&show(head), heads)),
            Err(CollectError::Other(e)) => return Err(e),
        };
        self.topological_sort(&needs, &heads)
    }
}
