//! The revision map: Alembic's `RevisionMap`, built from scripts in load order (sorted
//! file names). Pure: no SQLite, no I/O. Revisions are addressed by their index in
//! load order, so "sorted by index" is Alembic's tie-break everywhere.

use std::collections::BTreeSet;

use super::hash::{HashMap, HashSet};

use super::bitset::BitSet;
use super::error::{Error, Result};
use super::script::Script;

#[derive(Debug, Clone)]
pub struct Node {
    pub script: Script,
    /// `Revises:` (Alembic's versioned down revisions), in written order.
    pub parents: Vec<usize>,
    /// `Depends On:` resolved to revisions, in written order.
    pub deps: Vec<usize>,
    /// Dependencies not already implied by an ancestor's dependencies (load order).
    pub norm_deps: Vec<usize>,
    /// Children through `Revises:` (load order).
    pub next: Vec<usize>,
    /// Children through `Revises:` or `Depends On:` (load order).
    pub all_next: Vec<usize>,
    /// Own and inherited branch labels.
    pub labels: BTreeSet<String>,
    /// Longest path from a base through parents and dependencies: an ancestor always
    /// sits on a lower level than its descendants.
    pub level: usize,
    /// No revision of `normalized_down` is an ancestor of another one (always so for
    /// fewer than two): the planner's row checks can then look at neighbours only.
    pub independent_down: bool,
}

impl Node {
    pub fn id(&self) -> &str {
        &self.script.id
    }
    /// Parents then normalized dependencies, deduplicated (`_normalized_down_revisions`).
    pub fn normalized_down(&self) -> Vec<usize> {
        dedupe(self.parents.iter().chain(self.norm_deps.iter()).copied())
    }
    /// Parents then all dependencies, deduplicated (`_all_down_revisions`).
    pub fn all_down(&self) -> Vec<usize> {
        dedupe(self.parents.iter().chain(self.deps.iter()).copied())
    }
    pub fn is_branch_point(&self) -> bool {
        self.next.len() > 1
    }
    pub fn is_real_branch_point(&self) -> bool {
        self.all_next.len() > 1
    }
    pub fn is_merge_point(&self) -> bool {
        self.parents.len() > 1
    }
    pub fn is_head(&self) -> bool {
        self.next.is_empty()
    }
    pub fn is_real_head(&self) -> bool {
        self.all_next.is_empty()
    }
}

/// The items in first-seen order without repeats: a scan for the usual handful, a
/// hash set past that (a merge may have thousands of parents).
fn dedupe(it: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen: Option<HashSet<usize>> = None;
    for x in it {
        let fresh = match &mut seen {
            Some(set) => set.insert(x),
            None => !out.contains(&x),
        };
        if fresh {
            out.push(x);
            if seen.is_none() && out.len() > 16 {
                seen = Some(out.iter().copied().collect());
            }
        }
    }
    out
}

/// Which edges a walk follows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Edges {
    /// `Revises:` only.
    Versioned,
    /// `Revises:` and dependencies.
    All,
    /// Down: parents and normalized dependencies (Alembic's default for ancestors).
    Normalized,
}

#[derive(Debug, Clone)]
pub struct RevisionMap {
    pub nodes: Vec<Node>,
    by_id: HashMap<String, usize>,
    by_label: HashMap<String, usize>,
    /// Label keys in the order Alembic adds them to its map (after all ids).
    label_order: Vec<String>,
    /// Revisions nothing revises (dependency-only children don't count): `heads`.
    pub heads: Vec<usize>,
    /// Revisions nothing revises or depends on: the `heads` target.
    pub real_heads: Vec<usize>,
    pub bases: Vec<usize>,
    pub real_bases: Vec<usize>,
}

/// Alembic's Revision() refuses these before any map is built.
#[inline(never)]
fn check_self_loops(scripts: &[Script]) -> Result<()> {
    for s in scripts {
        if s.parents.contains(&s.id) {
            return Err(Error::Cycle { kind: "Self-loop", revisions: vec![s.id.clone()] });
        }
        if s.depends_on.contains(&s.id) {
            return Err(Error::Cycle { kind: "Dependency self-loop", revisions: vec![s.id.clone()] });
        }
    }
    Ok(())
}

/// Each revision id's index; a repeated id is an error naming both files.
#[inline(never)]
fn index_ids(scripts: &[Script]) -> Result<HashMap<String, usize>> {
    let mut by_id: HashMap<String, usize> = HashMap::with_capacity_and_hasher(scripts.len(), Default::default());
    for (i, s) in scripts.iter().enumerate() {
        if let Some(&prev) = by_id.get(&s.id) {
            return Err(Error::DuplicateRevision { revision: s.id.clone(), first: scripts[prev].path.clone(), second: s.path.clone() });
        }
        by_id.insert(s.id.clone(), i);
    }
    Ok(by_id)
}

/// Each branch label's revision, and the labels in Alembic's order.
#[inline(never)]
fn index_labels(scripts: &[Script], by_id: &HashMap<String, usize>) -> Result<(HashMap<String, usize>, Vec<String>)> {
    let mut by_label: HashMap<String, usize> = HashMap::default();
    let mut label_order = Vec::new();
    for (i, s) in scripts.iter().enumerate() {
        for label in &s.branch_labels {
            let taken = by_label.get(label).copied().or_else(|| by_id.get(label).copied());
            if let Some(other) = taken {
                return Err(Error::DuplicateLabel { label: label.clone(), revision: s.id.clone(), other: scripts[other].id.clone() });
            }
            by_label.insert(label.clone(), i);
            label_order.push(label.clone());
        }
    }
    Ok((by_label, label_order))
}

/// Each revision's parents and dependencies as indexes (ids or branch labels).
#[inline(never)]
#[allow(clippy::type_complexity)]
fn resolve_edges(scripts: &[Script], by_id: &HashMap<String, usize>, by_label: &HashMap<String, usize>) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    let lookup = |key: &str, from: &str| -> Result<usize> {
        by_id.get(key).or_else(|| by_label.get(key)).copied().ok_or_else(|| Error::UnknownParent { missing: key.to_string(), from: from.to_string() })
    };
    let mut edges = Vec::with_capacity(scripts.len());
    for s in scripts {
        let parents = s.parents.iter().map(|p| lookup(p, &s.id)).collect::<Result<Vec<_>>>()?;
        let deps = dedupe(s.depends_on.iter().map(|d| lookup(d, &s.id)).collect::<Result<Vec<_>>>()?.into_iter());
        edges.push((parents, deps));
    }
    Ok(edges)
}

/// The nodes, with the edges up from each (`next`, `all_next`).
#[inline(never)]
fn wire(scripts: Vec<Script>, edges: Vec<(Vec<usize>, Vec<usize>)>) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(scripts.len());
    for (s, (parents, deps)) in scripts.into_iter().zip(edges) {
        nodes.push(Node {
            labels: super::order::set(s.branch_labels.iter().cloned()),
            script: s,
            parents,
            deps,
            norm_deps: Vec::new(),
            next: Vec::new(),
            all_next: Vec::new(),
            level: 0,
            independent_down: true,
        });
    }
    for i in 0..nodes.len() {
        for d in nodes[i].all_down() {
            nodes[d].all_next.push(i);
        }
        for d in dedupe(nodes[i].parents.iter().copied()) {
            nodes[d].next.push(i);
        }
    }
    nodes
}

impl RevisionMap {
    /// Builds and validates the map. Scripts are sorted by file name first: that is
    /// Alembic's load order, which breaks every tie.
    ///
    /// Each phase is a function of its own, never inlined: V8 recompiles a hot wasm
    /// function with its optimising compiler, and this one with every phase inlined (13
    /// KiB of wasm) took 32 ms to compile, on threads that compete with the parse for
    /// the CPU (a JS API's first call; a browser's page load). Apart, each phase
    /// compiles in a fraction of that, and only the hot ones are recompiled at all.
    pub fn new(mut scripts: Vec<Script>) -> Result<RevisionMap> {
        super::order::sort_by(&mut scripts, |a, b| a.file_name < b.file_name);
        check_self_loops(&scripts)?;
        let by_id = index_ids(&scripts)?;
        let (by_label, label_order) = index_labels(&scripts, &by_id)?;
        let edges = resolve_edges(&scripts, &by_id, &by_label)?;
        let nodes = wire(scripts, edges);
        let mut map = RevisionMap {
            heads: (0..nodes.len()).filter(|&i| nodes[i].next.is_empty()).collect(),
            real_heads: (0..nodes.len()).filter(|&i| nodes[i].all_next.is_empty()).collect(),
            bases: (0..nodes.len()).filter(|&i| nodes[i].parents.is_empty()).collect(),
            real_bases: (0..nodes.len()).filter(|&i| nodes[i].parents.is_empty() && nodes[i].script.depends_on.is_empty()).collect(),
            nodes,
            by_id,
            by_label,
            label_order,
        };
        map.normalize_depends_on();
        map.detect_cycles()?;
        map.set_levels();
        map.check_merges()?;
        map.add_branch_labels();
        Ok(map)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }
    pub fn id(&self, i: usize) -> &str {
        &self.nodes[i].script.id
    }
    /// Exact lookup of a revision id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }
    /// Exact lookup of a map key: a revision id or a branch label.
    pub fn key(&self, key: &str) -> Option<usize> {
        self.by_id.get(key).or_else(|| self.by_label.get(key)).copied()
    }
    /// Every key of Alembic's map in its order: ids in load order, then labels.
    pub fn keys(&self) -> impl Iterator<Item = (&str, usize)> {
        let ids = self.nodes.iter().enumerate().map(|(i, n)| (n.script.id.as_str(), i));
        let labels = self.label_order.iter().map(|l| (l.as_str(), self.by_label[l]));
        ids.chain(labels)
    }

    /// Pushes `i`'s down edges onto `out` in the order `down_edges` lists them
    /// (deduplicated as `dedupe` does), without a Vec of their own: walks call this
    /// once per revision.
    fn push_down_edges(&self, i: usize, edges: Edges, out: &mut Vec<usize>) {
        let n = &self.nodes[i];
        let extra: &[usize] = match edges {
            Edges::Versioned => &[],
            Edges::All => &n.deps,
            Edges::Normalized => &n.norm_deps,
        };
        if n.parents.len() + extra.len() > 16 {
            out.extend(dedupe(n.parents.iter().chain(extra).copied()));
            return;
        }
        let start = out.len();
        for &x in n.parents.iter().chain(extra) {
            if !out[start..].contains(&x) {
                out.push(x);
            }
        }
    }
    fn up_edges(&self, i: usize, edges: Edges) -> &[usize] {
        let n = &self.nodes[i];
        match edges {
            Edges::Versioned => &n.next,
            Edges::All | Edges::Normalized => &n.all_next,
        }
    }

    /// Alembic's `_iterate_related_revisions`: a depth-first walk from each target in
    /// turn (shared `seen`), yielding each revision once, in Alembic's order. With
    /// `check`, a target reached from another target is an "overlaps" error.
    fn related(&self, targets: &[usize], check: bool, next: impl Fn(usize, &mut Vec<usize>)) -> Result<Vec<usize>> {
        let mut seen = vec![false; self.nodes.len()];
        let mut is_target = vec![false; if check { self.nodes.len() } else { 0 }];
        if check {
            targets.iter().for_each(|&t| is_target[t] = true);
        }
        let mut out = Vec::new();
        for &target in targets {
            let mut todo = vec![target];
            let mut per_target = BTreeSet::new();
            while let Some(rev) = todo.pop() {
                if check {
                    per_target.insert(rev);
                }
                if seen[rev] {
                    continue;
                }
                seen[rev] = true;
                next(rev, &mut todo);
                out.push(rev);
            }
            if check {
                let overlaps: Vec<&str> = per_target.iter().filter(|&&r| r != target && is_target[r]).map(|&r| self.id(r)).collect();
                if !overlaps.is_empty() {
                    return Err(Error::InvalidTarget(format!(
                        "Requested revision {} overlaps with other requested revisions {}",
                        self.id(target),
                        overlaps.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The targets and all their ancestors along `edges` (Alembic order).
    pub fn ancestors(&self, targets: &[usize], edges: Edges) -> Vec<usize> {
        self.related(targets, false, |r, todo| self.push_down_edges(r, edges, todo)).unwrap_or_default()
    }
    pub fn ancestors_checked(&self, targets: &[usize], edges: Edges) -> Result<Vec<usize>> {
        self.related(targets, true, |r, todo| self.push_down_edges(r, edges, todo))
    }
    /// The targets and all their descendants along `edges` (Alembic order).
    pub fn descendants(&self, targets: &[usize], edges: Edges) -> Vec<usize> {
        self.related(targets, false, |r, todo| todo.extend_from_slice(self.up_edges(r, edges))).unwrap_or_default()
    }
    pub fn descendants_checked(&self, targets: &[usize], edges: Edges) -> Result<Vec<usize>> {
        self.related(targets, true, |r, todo| todo.extend_from_slice(self.up_edges(r, edges)))
    }
    /// The targets and their ancestors as a set (order-free, so no Alembic walk order).
    pub fn ancestor_set(&self, targets: &[usize], edges: Edges) -> BitSet {
        let mut seen = BitSet::new(self.nodes.len());
        let mut todo: Vec<usize> = targets.to_vec();
        while let Some(r) = todo.pop() {
            if seen.insert(r) {
                let n = &self.nodes[r];
                todo.extend(n.parents.iter().copied());
                match edges {
                    Edges::Versioned => {}
                    Edges::All => todo.extend(n.deps.iter().copied()),
                    Edges::Normalized => todo.extend(n.norm_deps.iter().copied()),
                }
            }
        }
        seen
    }

    /// Dependencies already implied by an ancestor's dependencies are dropped; what is
    /// left is kept in load order (Alembic keeps a hash-ordered set here). A dependency
    /// that is itself an ancestor is dropped too: Alembic keeps it and then fails with
    /// a KeyError when it upgrades through a merge with it.
    #[inline(never)]
    fn normalize_depends_on(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].deps.is_empty() {
                continue;
            }
            let mut keep: BTreeSet<usize> = super::order::set(self.nodes[i].deps.iter().copied());
            for a in self.ancestors(&[i], Edges::Versioned) {
                if a != i {
                    keep.remove(&a);
                    for d in &self.nodes[a].deps {
                        keep.remove(d);
                    }
                }
            }
            self.nodes[i].norm_deps = keep.into_iter().collect();
        }
    }

    #[inline(never)]
    fn detect_cycles(&self) -> Result<()> {
        if self.nodes.is_empty() {
            return Ok(());
        }
        let all_ids = || self.nodes.iter().map(|n| n.script.id.clone()).collect::<Vec<_>>();
        for (kind, heads, bases, edges) in
            [("Cycle", &self.heads, &self.bases, Edges::Versioned), ("Dependency cycle", &self.real_heads, &self.real_bases, Edges::All)]
        {
            if heads.is_empty() || bases.is_empty() {
                return Err(Error::Cycle { kind, revisions: all_ids() });
            }
            // Membership by index: every revision is in both walks unless there is a cycle.
            let marks = |walk: Vec<usize>| {
                let mut m = vec![false; self.nodes.len()];
                walk.into_iter().for_each(|i| m[i] = true);
                m
            };
            let down = marks(self.related(heads, false, |r, todo| self.push_down_edges(r, edges, todo))?);
            let up = marks(self.related(bases, false, |r, todo| todo.extend_from_slice(self.up_edges(r, edges)))?);
            let mut lost: Vec<String> = (0..self.nodes.len()).filter(|&i| !(down[i] && up[i])).map(|i| self.id(i).to_string()).collect();
            if !lost.is_empty() {
                super::order::sort_by(&mut lost, |a, b| a < b);
                return Err(Error::Cycle { kind, revisions: lost });
            }
        }
        Ok(())
    }

    /// Each revision's `level`, parents and dependencies first (Kahn's order; the graph
    /// has no cycle by now).
    #[inline(never)]
    fn set_levels(&mut self) {
        let mut waiting: Vec<usize> = self.nodes.iter().map(|n| n.all_down().len()).collect();
        let mut ready: Vec<usize> = (0..self.nodes.len()).filter(|&i| waiting[i] == 0).collect();
        while let Some(i) = ready.pop() {
            let level = self.nodes[i].level + 1;
            for k in 0..self.nodes[i].all_next.len() {
                let c = self.nodes[i].all_next[k];
                self.nodes[c].level = self.nodes[c].level.max(level);
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.push(c);
                }
            }
        }
    }

    /// A pair `(a, b)` of `set` where `a` is a strict ancestor of `b` (through parents
    /// and dependencies), if any. Searches down from the set and up from it at once, each
    /// kept between the set's lowest and highest level (a path between two members never
    /// leaves them), and stops when either search is done: the cost is that of the
    /// smaller region, not of the history below or above.
    pub fn dependent_pair(&self, set: &[usize]) -> Option<(usize, usize)> {
        if set.len() < 2 {
            return None;
        }
        let lo = set.iter().map(|&i| self.nodes[i].level).min().unwrap_or(0);
        let hi = set.iter().map(|&i| self.nodes[i].level).max().unwrap_or(0);
        let member: HashMap<usize, ()> = set.iter().map(|&i| (i, ())).collect();
        // Each search: the origin (a member) every visited revision was reached from.
        let mut down_seen: HashMap<usize, usize> = set.iter().map(|&i| (i, i)).collect();
        let mut up_seen = down_seen.clone();
        let mut down_todo: Vec<usize> = set.to_vec();
        let mut up_todo: Vec<usize> = set.to_vec();
        loop {
            if let Some(x) = down_todo.pop() {
                let origin = down_seen[&x];
                let n = &self.nodes[x];
                for &y in n.parents.iter().chain(&n.deps) {
                    if member.contains_key(&y) {
                        return Some((y, origin));
                    }
                    if self.nodes[y].level >= lo && !down_seen.contains_key(&y) {
                        down_seen.insert(y, origin);
                        down_todo.push(y);
                    }
                }
            } else {
                return None;
            }
            if let Some(x) = up_todo.pop() {
                let origin = up_seen[&x];
                for &y in &self.nodes[x].all_next {
                    if member.contains_key(&y) {
                        return Some((origin, y));
                    }
                    if self.nodes[y].level <= hi && !up_seen.contains_key(&y) {
                        up_seen.insert(y, origin);
                        up_todo.push(y);
                    }
                }
            } else {
                return None;
            }
        }
    }

    /// A merge whose parents include an ancestor of another parent is refused: its
    /// version-table rows cannot be kept as Alembic keeps them (a downgrade through it
    /// brings back a row that another row already implies, and the next command fails
    /// on overlapping rows; Alembic fails the same way). Also marks which revisions'
    /// down revisions are independent of each other, for the planner.
    #[inline(never)]
    fn check_merges(&mut self) -> Result<()> {
        for i in 0..self.nodes.len() {
            let n = &self.nodes[i];
            if n.parents.len() > 1 {
                if let Some((a, b)) = self.dependent_pair(&dedupe(n.parents.iter().copied())) {
                    return Err(Error::RedundantParent {
                        revision: n.script.id.clone(),
                        file: n.script.path.clone(),
                        ancestor: self.id(a).to_string(),
                        descendant: self.id(b).to_string(),
                    });
                }
            }
            if !n.norm_deps.is_empty() && n.normalized_down().len() > 1 {
                self.nodes[i].independent_down = self.dependent_pair(&self.nodes[i].normalized_down()).is_none();
            }
        }
        Ok(())
    }

    /// Alembic's `_add_branches`: a label covers its revision's descendants, and the
    /// revisions below it down to the nearest branch point or merge point, walking
    /// down from the last descendant visited.
    #[inline(never)]
    fn add_branch_labels(&mut self) {
        for i in 0..self.nodes.len() {
            let own: Vec<String> = self.nodes[i].script.branch_labels.clone();
            if own.is_empty() {
                continue;
            }
            let desc = self.descendants(&[i], Edges::Versioned);
            for &d in &desc {
                self.nodes[d].labels.extend(own.iter().cloned());
            }
            let mut parent = desc.last().copied();
            while let Some(p) = parent {
                let n = &self.nodes[p];
                if n.is_real_branch_point() || n.is_merge_point() {
                    break;
                }
                self.nodes[p].labels.extend(own.iter().cloned());
                parent = self.nodes[p].parents.first().copied();
            }
        }
    }
}
