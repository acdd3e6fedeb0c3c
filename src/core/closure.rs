//! Ancestor sets on demand, remembered at the revisions where chains meet (bases,
//! merges, revisions with dependencies). A plain chain costs nothing to remember; a
//! merge's set is its parents' sets joined, so a plan asks the graph once, not once
//! per step.

use std::collections::HashMap;

use super::bitset::BitSet;
use super::graph::RevisionMap;

pub struct Closure<'m> {
    map: &'m RevisionMap,
    memo: HashMap<usize, BitSet>,
}

impl<'m> Closure<'m> {
    pub fn new(map: &'m RevisionMap) -> Closure<'m> {
        Closure { map, memo: HashMap::new() }
    }

    /// Where chains meet: anything but exactly one parent and no dependency.
    fn is_joint(&self, i: usize) -> bool {
        let n = self.map.node(i);
        n.parents.len() != 1 || !n.norm_deps.is_empty()
    }

    /// Walks down a plain chain from `i`: the plain revisions passed, and the joint
    /// where it stops.
    fn chain(&self, mut i: usize) -> (Vec<usize>, usize) {
        let mut passed = Vec::new();
        while !self.is_joint(i) {
            passed.push(i);
            i = self.map.node(i).parents[0];
        }
        (passed, i)
    }

    fn down(&self, j: usize) -> Vec<usize> {
        let n = self.map.node(j);
        n.parents.iter().chain(n.norm_deps.iter()).copied().collect()
    }

    /// Fills the memo for joint `j` and every joint below it, children after parents.
    fn remember(&mut self, j: usize) {
        let mut stack = vec![(j, false)];
        while let Some((x, expanded)) = stack.pop() {
            if self.memo.contains_key(&x) {
                continue;
            }
            let below: Vec<(Vec<usize>, usize)> = self.down(x).into_iter().map(|p| self.chain(p)).collect();
            if !expanded {
                stack.push((x, true));
                stack.extend(below.iter().filter(|(_, z)| !self.memo.contains_key(z)).map(|&(_, z)| (z, false)));
                continue;
            }
            let mut set = BitSet::new(self.map.len());
            set.insert(x);
            for (passed, z) in below {
                for p in passed {
                    set.insert(p);
                }
                if let Some(m) = self.memo.get(&z) {
                    set.union_with(m);
                }
            }
            self.memo.insert(x, set);
        }
    }

    /// `x` and all its ancestors through parents and (normalized) dependencies.
    pub fn ancestors(&mut self, x: usize) -> BitSet {
        let (passed, joint) = self.chain(x);
        self.remember(joint);
        let mut set = self.memo.get(&joint).cloned().unwrap_or_else(|| BitSet::new(self.map.len()));
        for p in passed {
            set.insert(p);
        }
        set
    }
}
