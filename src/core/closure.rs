//! What a set of version-table rows implies (the rows and all their ancestors), kept up
//! to date as the rows change, so the planner asks "is this revision below another row?"
//! at a revision's neighbours instead of walking the graph at every step.

use super::graph::RevisionMap;

/// `anc*(rows)` along parents and normalized dependencies, as counts: a revision's count
/// is how often it is a row plus how many of its children are in the set, so it is in
/// the set while its count is above zero. Adding a row costs the revisions it brings
/// into the set, removing one the revisions that leave it: a plan that moves rows one
/// revision at a time pays one revision a step.
pub struct Implied<'m> {
    map: &'m RevisionMap,
    count: Vec<u32>,
}

impl<'m> Implied<'m> {
    pub fn new(map: &'m RevisionMap, rows: impl IntoIterator<Item = usize>) -> Implied<'m> {
        let mut set = Implied { map, count: vec![0; map.len()] };
        for r in rows {
            set.add(r);
        }
        set
    }

    pub fn contains(&self, i: usize) -> bool {
        self.count[i] > 0
    }

    /// How many children of `i` (through parents or normalized dependencies) are in the
    /// set; `is_row`: whether `i` is a row itself.
    pub fn children_inside(&self, i: usize, is_row: bool) -> u32 {
        self.count[i] - u32::from(is_row && self.count[i] > 0)
    }

    /// One more row at `i`.
    pub fn add(&mut self, i: usize) {
        let mut todo = vec![i];
        while let Some(x) = todo.pop() {
            self.count[x] += 1;
            if self.count[x] == 1 {
                todo.extend(self.map.node(x).normalized_down());
            }
        }
    }

    /// One row fewer at `i`.
    pub fn remove(&mut self, i: usize) {
        let mut todo = vec![i];
        while let Some(x) = todo.pop() {
            if self.count[x] == 0 {
                continue;
            }
            self.count[x] -= 1;
            if self.count[x] == 0 {
                todo.extend(self.map.node(x).normalized_down());
            }
        }
    }

    /// Is `i` at or below a revision that `is_row` accepts? Walks up from `i` inside the
    /// set only (outside it nothing leads to a row): the exact answer where neighbours
    /// alone cannot tell.
    pub fn below_row(&self, i: usize, is_row: impl Fn(usize) -> bool) -> bool {
        let mut seen = super::hash::HashSet::default();
        let mut todo = vec![i];
        while let Some(x) = todo.pop() {
            if is_row(x) {
                return true;
            }
            for &c in &self.map.node(x).all_next {
                if self.contains(c) && seen.insert(c) {
                    todo.push(c);
                }
            }
        }
        false
    }
}
