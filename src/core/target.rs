//! Target expressions, resolved as Alembic resolves them: `head`, `heads`, `base`,
//! ids and unique prefixes, branch labels, `label@rev`, and relative `+N` / `-N` /
//! `rev+N` / `rev-N` / `label@+N` walks.

use super::bitset::BitSet;
use super::error::{Error, Result};
use super::graph::{Edges, RevisionMap};

/// A place in the graph that a target or a walk can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    /// Alembic's `None`: below every base (where walking up starts).
    Nothing,
    /// Alembic's `"base"`: a walk down ended below a base.
    Base,
    Rev(usize),
}

impl Pos {
    pub fn rev(self) -> Option<usize> {
        match self {
            Pos::Rev(i) => Some(i),
            _ => None,
        }
    }
}

/// `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)` matched at the start of `s`, as Python's `re.match`.
pub fn match_relative(s: &str) -> Option<(Option<&str>, Option<&str>, i64, &str)> {
    fn tail(t: &str) -> Option<(Option<&str>, i64, &str)> {
        let word_end = t.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(t.len());
        let rest = &t[word_end..];
        let sign = rest.chars().next().filter(|c| *c == '+' || *c == '-')?;
        let digits_end = rest[1..].find(|c: char| !c.is_ascii_digit()).map(|e| e + 1).unwrap_or(rest.len());
        if digits_end == 1 {
            return None;
        }
        let text = &rest[..digits_end];
        let n: i64 = rest[1..digits_end].parse().ok()?;
        let n = if sign == '-' { -n } else { n };
        let symbol = (word_end > 0).then(|| &t[..word_end]);
        Some((symbol, n, text))
    }
    for (at, _) in s.match_indices('@') {
        if at == 0 {
            continue;
        }
        if let Some((sym, n, text)) = tail(&s[at + 1..]) {
            return Some((Some(&s[..at]), sym, n, text));
        }
    }
    tail(s).map(|(sym, n, text)| (None, sym, n, text))
}

fn python_int(s: &str) -> Option<i64> {
    let t = s.trim().replace('_', "");
    t.parse::<i64>().ok()
}

impl RevisionMap {
    /// `_resolve_revision_number`: the ids a symbol names, and its branch label.
    pub fn resolve_number(&self, id: &str) -> Result<(Vec<String>, Option<String>)> {
        let (label, id) = match id.split_once('@') {
            Some((l, rest)) => (Some(l.to_string()), rest),
            None => (None, id),
        };
        let ids = match id {
            "heads" => match &label {
                Some(l) => {
                    let heads: Vec<usize> = self.heads.clone();
                    self.filter_for_lineage(&heads, l, false)?.into_iter().map(|i| self.id(i).to_string()).collect()
                }
                None => self.real_heads.iter().map(|&i| self.id(i).to_string()).collect(),
            },
            "head" => self.current_head(label.as_deref())?.map(|h| vec![self.id(h).to_string()]).unwrap_or_default(),
            "base" => vec![],
            other => vec![other.to_string()],
        };
        Ok((ids, label))
    }

    /// `get_current_head`: the one head (on a branch, if given).
    pub fn current_head(&self, label: Option<&str>) -> Result<Option<usize>> {
        let mut heads = self.heads.clone();
        if let Some(l) = label {
            heads = self.filter_for_lineage(&heads, l, false)?;
        }
        if heads.len() > 1 {
            return Err(Error::multiple_heads(
                &label.map(|l| format!("{l}@head")).unwrap_or_else(|| "head".into()),
                heads.iter().map(|&h| self.id(h).to_string()).collect(),
            ));
        }
        Ok(heads.first().copied())
    }

    /// `get_revisions` for one symbol.
    pub fn get_revisions(&self, id: &str) -> Result<Vec<Pos>> {
        let (resolved, label) = self.resolve_number(id)?;
        if resolved.len() == 1 {
            if let Some(n) = python_int(&resolved[0]) {
                if n < 0 {
                    let mut heads = self.real_heads.clone();
                    if let Some(l) = &label {
                        heads.retain(|&h| self.nodes[h].labels.contains(l));
                    }
                    return heads.into_iter().map(|h| Ok(self.walk(Pos::Rev(h), n, None, true)?.unwrap_or(Pos::Nothing))).collect();
                }
            }
        }
        resolved.iter().map(|r| Ok(self.revision_for_ident(Some(r), label.as_deref())?.map(Pos::Rev).unwrap_or(Pos::Nothing))).collect()
    }

    /// `get_revisions` for several symbols (a tuple in Alembic).
    pub fn get_revisions_all(&self, ids: &[String]) -> Result<Vec<Pos>> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.get_revisions(id)?);
        }
        Ok(out)
    }

    /// `get_revision`: exactly one revision (or `None` for base).
    pub fn get_revision(&self, id: &str) -> Result<Option<usize>> {
        let (resolved, label) = self.resolve_number(id)?;
        if resolved.len() > 1 {
            return Err(Error::multiple_heads(id, resolved));
        }
        self.revision_for_ident(resolved.first().map(String::as_str), label.as_deref())
    }

    fn resolve_branch(&self, label: &str) -> Result<usize> {
        if let Some(i) = self.key(label) {
            return Ok(i);
        }
        match self.revision_for_ident(Some(label), None) {
            Ok(Some(i)) => Ok(i),
            _ => Err(Error::UnknownRevision {
                argument: label.to_string(),
                message: format!("Can't locate revision identified by '{label}': No such branch: '{label}'"),
            }),
        }
    }

    /// `_revision_for_ident`: exact key, else a unique prefix of a key longer than 3.
    pub fn revision_for_ident(&self, ident: Option<&str>, branch: Option<&str>) -> Result<Option<usize>> {
        let branch_rev = match branch {
            Some(b) if !b.is_empty() => Some(self.resolve_branch(b)?),
            _ => None,
        };
        let Some(ident) = ident else { return Ok(None) };
        let found = match self.key(ident) {
            Some(i) => i,
            None => {
                let mut keys: Vec<(&str, usize)> = self.keys().filter(|(k, _)| k.chars().count() > 3 && k.starts_with(ident)).collect();
                if let Some(b) = branch_rev {
                    let lineage = self.lineage(&[b], false);
                    keys.retain(|&(_, i)| lineage.contains(i));
                }
                match keys.len() {
                    0 => {
                        let hint = if ident.chars().count() < 4 {
                            "; please ensure at least four characters are present for partial revision identifier matches"
                        } else {
                            ""
                        };
                        return Err(Error::UnknownRevision {
                            argument: ident.to_string(),
                            message: format!("Can't locate revision identified by '{ident}': No such revision or branch '{ident}'{hint}"),
                        });
                    }
                    1 => keys[0].1,
                    _ => {
                        let shown: Vec<String> = keys.iter().take(3).map(|(k, _)| format!("'{k}'")).collect();
                        return Err(Error::AmbiguousRevision {
                            argument: ident.to_string(),
                            message: format!(
                                "Can't locate revision identified by '{ident}': Multiple revisions start with '{ident}': {}...",
                                shown.join(", ")
                            ),
                        });
                    }
                }
            }
        };
        if let (Some(b), Some(label)) = (branch_rev, branch) {
            if !self.shares_lineage(found, &[b], false) {
                return Err(Error::UnknownRevision {
                    argument: ident.to_string(),
                    message: format!(
                        "Can't locate revision identified by '{ident}': Revision {} is not a member of branch '{label}'",
                        self.id(found)
                    ),
                });
            }
        }
        Ok(Some(found))
    }

    /// `_shares_lineage`: does `target` sit above or below one of `against`?
    pub fn shares_lineage(&self, target: usize, against: &[usize], include_deps: bool) -> bool {
        against.is_empty() || self.lineage(against, include_deps).contains(target)
    }

    /// Every revision that shares lineage with one of `against` (non-empty): their
    /// ancestors and descendants, found once rather than walked from each candidate.
    /// Down edges are normalized where dependencies count, which reach the same
    /// revisions as all of them.
    fn lineage(&self, against: &[usize], include_deps: bool) -> BitSet {
        let edges = if include_deps { Edges::All } else { Edges::Versioned };
        let mut set = self.ancestor_set(against, edges);
        for d in self.descendants(against, edges) {
            set.insert(d);
        }
        set
    }

    /// What `filter_for_lineage` checks against, resolved: `None` when that is nothing
    /// (every target passes).
    fn lineage_of(&self, check_against: &str, include_deps: bool) -> Result<Option<BitSet>> {
        let (ids, label) = self.resolve_number(check_against)?;
        let mut shares = Vec::new();
        for key in label.iter().chain(ids.iter()) {
            if let Some(i) = self.revision_for_ident(Some(key), None)? {
                shares.push(i);
            }
        }
        Ok((!shares.is_empty()).then(|| self.lineage(&shares, include_deps)))
    }

    /// `filter_for_lineage`: the targets that share lineage with `check_against`.
    pub fn filter_for_lineage(&self, targets: &[usize], check_against: &str, include_deps: bool) -> Result<Vec<usize>> {
        // Alembic resolves what to check against per target: with no targets, nothing
        // is resolved and nothing can fail (`stamp -1` on an empty table).
        if targets.is_empty() {
            return Ok(vec![]);
        }
        Ok(match self.lineage_of(check_against, include_deps)? {
            None => targets.to_vec(),
            Some(set) => targets.iter().copied().filter(|&t| set.contains(t)).collect(),
        })
    }

    /// `_walk`: `steps` up (> 0) or down (< 0). `Ok(None)` when the walk runs off the
    /// graph and `no_overwalk` is set.
    pub fn walk(&self, start: Pos, steps: i64, branch: Option<&str>, no_overwalk: bool) -> Result<Option<Pos>> {
        let mut initial = start;
        // The branch's lineage, resolved at the first step that needs it (and only then,
        // as Alembic, so a walk that never filters never fails on the branch).
        let mut lineage: Option<Option<BitSet>> = None;
        for _ in 0..steps.unsigned_abs() {
            let children: Vec<Pos> = if steps > 0 {
                let up: Vec<usize> = match initial {
                    Pos::Nothing => self.bases.clone(),
                    Pos::Rev(i) => self.nodes[i].next.clone(),
                    Pos::Base => return Err(Error::InvalidTarget("can't walk up from base".into())),
                };
                let up = match branch {
                    Some(b) if !up.is_empty() => {
                        if lineage.is_none() {
                            lineage = Some(self.lineage_of(b, false)?);
                        }
                        match lineage.as_ref().and_then(Option::as_ref) {
                            Some(set) => up.into_iter().filter(|&u| set.contains(u)).collect(),
                            None => up,
                        }
                    }
                    _ => up,
                };
                up.into_iter().map(Pos::Rev).collect()
            } else {
                match initial {
                    Pos::Base => vec![],
                    Pos::Nothing => self.heads.iter().map(|&h| Pos::Rev(h)).collect(),
                    Pos::Rev(i) if self.nodes[i].parents.is_empty() => vec![Pos::Base],
                    Pos::Rev(i) => self.nodes[i].parents.iter().map(|&p| Pos::Rev(p)).collect(),
                }
            };
            match children.len() {
                0 => return Ok(if no_overwalk { None } else { Some(initial) }),
                1 => initial = children[0],
                _ => return Err(Error::InvalidTarget("Ambiguous walk".into())),
            }
        }
        Ok(Some(initial))
    }

    /// `_parse_downgrade_target`: the branch label and the revision to go down to.
    pub fn parse_downgrade_target(&self, current: &[String], target: &str, assert_len: bool) -> Result<(Option<String>, Pos)> {
        let didnt_produce = |text: &str, n: i64| Error::InvalidTarget(format!("Relative revision {text} didn't produce {} migrations", n.abs()));
        if let Some((label, symbol, rel, text)) = match_relative(target) {
            if rel >= 0 {
                let Some(symbol) = symbol else { return Err(didnt_produce(text, rel)) };
                let start = self.get_revision(symbol)?.map(Pos::Rev).unwrap_or(Pos::Nothing);
                let rev = self.walk(start, rel, label, assert_len)?.ok_or_else(|| Error::InvalidTarget("Walked too far".into()))?;
                return Ok((label.map(String::from), rev));
            }
            let relative_to_current = symbol.is_none();
            let mut label = label.map(String::from);
            let symbol = match symbol {
                Some(s) => s.to_string(),
                None => match &label {
                    Some(l) => {
                        let current_revs: Vec<usize> =
                            current.iter().map(|c| self.get_revision(c)).collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
                        let mut on_branch = self.filter_for_lineage(&current_revs, l, false)?;
                        if on_branch.is_empty() {
                            let all_current = self.all_current(current)?;
                            on_branch = self.filter_for_lineage(&all_current, l, false)?;
                        }
                        if on_branch.len() != 1 {
                            return Err(Error::InvalidTarget(format!("Branch '{l}' has no single current revision to walk from")));
                        }
                        self.id(on_branch[0]).to_string()
                    }
                    None => {
                        let Some(first) = current.first() else { return Err(didnt_produce(text, rel)) };
                        let first = first.clone();
                        label = Some(first.clone());
                        first
                    }
                },
            };
            let start = match &label {
                None => self.get_revision(&symbol)?,
                Some(l) => self.get_revision(&format!("{l}@{symbol}"))?,
            };
            let start = start.map(Pos::Rev).unwrap_or(Pos::Nothing);
            return match self.walk(start, rel, None, assert_len)? {
                Some(rev) => Ok((label, rev)),
                None if relative_to_current => Err(didnt_produce(text, rel)),
                None => Err(Error::InvalidTarget("Walked too far".into())),
            };
        }
        let (label, symbol) = match target.rsplit_once('@') {
            Some((l, s)) if !l.is_empty() => (Some(l.to_string()), s),
            Some((_, s)) => (None, s),
            None => (None, target),
        };
        Ok((label, self.get_revision(symbol)?.map(Pos::Rev).unwrap_or(Pos::Nothing)))
    }

    /// `_parse_upgrade_target`: the revisions to upgrade to.
    pub fn parse_upgrade_target(&self, current: &[String], target: &str, assert_len: bool) -> Result<Vec<Pos>> {
        let Some((label, symbol, rel, text)) = match_relative(target) else {
            return self.get_revisions(target);
        };
        let didnt_produce = || Error::InvalidTarget(format!("Relative revision {text} didn't produce {} migrations", rel.abs()));
        if rel > 0 {
            if let Some(symbol) = symbol {
                let start = self.get_revision(symbol)?.map(Pos::Rev).unwrap_or(Pos::Nothing);
                let rev = self.walk(start, rel, label, assert_len)?.ok_or_else(didnt_produce)?;
                return Ok(vec![rev]);
            }
            let current: Vec<String> = if current.is_empty() { vec!["base".into()] } else { current.to_vec() };
            let mut starts: Vec<Pos> =
                current.iter().map(|c| Ok(self.get_revision(c)?.map(Pos::Rev).unwrap_or(Pos::Nothing))).collect::<Result<Vec<_>>>()?;
            if let Some(l) = label {
                let revs: Vec<usize> = self.get_revisions_all(&current)?.into_iter().filter_map(Pos::rev).collect();
                let on_branch = self.filter_for_lineage(&revs, l, false)?;
                starts = if !on_branch.is_empty() {
                    on_branch.into_iter().map(Pos::Rev).collect()
                } else {
                    // The branch is not a head: start from its newest applied revision.
                    let active = self.filter_for_lineage(&self.ancestors(&revs, Edges::Normalized), l, false)?;
                    let below: std::collections::BTreeSet<usize> = super::order::set(active.iter().flat_map(|&r| self.nodes[r].normalized_down()));
                    let tips: Vec<Pos> = active.iter().filter(|r| !below.contains(r)).map(|&r| Pos::Rev(r)).collect();
                    if tips.is_empty() {
                        vec![Pos::Nothing]
                    } else {
                        tips
                    }
                };
            }
            if starts.len() > 1 {
                return Err(Error::InvalidTarget("Ambiguous upgrade from multiple current revisions".into()));
            }
            let rev = self.walk(starts[0], rel, label, assert_len)?.ok_or_else(didnt_produce)?;
            return Ok(vec![rev]);
        }
        let Some(symbol) = symbol else { return Err(didnt_produce()) };
        let start = match label {
            None => self.get_revision(symbol)?,
            Some(l) => self.get_revision(&format!("{l}@{symbol}"))?,
        };
        let rev = self.walk(start.map(Pos::Rev).unwrap_or(Pos::Nothing), rel, None, assert_len)?.ok_or_else(didnt_produce)?;
        Ok(vec![rev])
    }

    /// `_get_all_current`: the rows' revisions, plus what they imply, reduced to the
    /// branch heads among them (what `current` prints).
    pub fn all_current(&self, rows: &[String]) -> Result<Vec<usize>> {
        let top: Vec<usize> = self.get_revisions_all(rows)?.into_iter().filter_map(Pos::rev).collect();
        let all: std::collections::BTreeSet<usize> = super::order::set(self.ancestors(&top, Edges::Normalized).into_iter().chain(top));
        // `all` holds every ancestor of its members, so a member with a descendant in it
        // has a child in it: one look at the children, not a walk up from each member.
        Ok(all.iter().copied().filter(|&r| !self.nodes[r].next.iter().any(|c| all.contains(c))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::match_relative;

    #[test]
    fn relative_forms_match_like_alembic_regex() {
        assert_eq!(match_relative("+2"), Some((None, None, 2, "+2")));
        assert_eq!(match_relative("-1"), Some((None, None, -1, "-1")));
        assert_eq!(match_relative("ae10+3"), Some((None, Some("ae10"), 3, "+3")));
        assert_eq!(match_relative("heads-1"), Some((None, Some("heads"), -1, "-1")));
        assert_eq!(match_relative("billing@+1"), Some((Some("billing"), None, 1, "+1")));
        assert_eq!(match_relative("billing@ae10-2"), Some((Some("billing"), Some("ae10"), -2, "-2")));
        assert_eq!(match_relative("head"), None);
        assert_eq!(match_relative("billing@head"), None);
        assert_eq!(match_relative("abc+"), None);
    }
}
