//! Integrity of applied revisions: which revisions the version table's rows imply, and
//! whether any of their files changed since they were applied (recorded checksums).
//! Shared by the embedded runner and the host-adapter planner, so both refuse alike.

use std::collections::BTreeSet;

use super::hash::HashMap;

use super::error::{Error, Result};
use super::graph::{Edges, RevisionMap};
use super::script::checksums;

/// Revisions applied according to `rows`: the rows and everything they imply.
pub fn applied(map: &RevisionMap, rows: &[String]) -> BTreeSet<String> {
    let idx: Vec<usize> = rows.iter().filter_map(|r| map.index_of(r)).collect();
    super::order::set(map.ancestors(&idx, Edges::Normalized).into_iter().map(|i| map.id(i).to_string()))
}

/// An applied revision whose file changed since (its checksum differs from the one
/// `recorded` when it ran) is an error. Revisions without a record are accepted: they
/// were applied by another tool (Alembic) or before athanor kept checksums.
pub fn verify_checksums(map: &RevisionMap, rows: &[String], recorded: &HashMap<String, String>) -> Result<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let mut scripts = Vec::new();
    for rev in applied(map, rows) {
        if let (true, Some(i)) = (recorded.contains_key(&rev), map.index_of(&rev)) {
            scripts.push(&map.node(i).script);
        }
    }
    // Hashed together: the CLI's wasm does four at once (core::sha256).
    for (script, now) in scripts.iter().zip(checksums(&scripts)) {
        if let Some(sum) = recorded.get(&script.id).filter(|sum| **sum != now) {
            return Err(Error::ChecksumMismatch { revision: script.id.clone(), file: script.path.clone(), recorded: sum.clone(), current: now });
        }
    }
    Ok(())
}

/// Recorded revisions that `rows` no longer imply: their history is forgotten.
pub fn stale<'a>(map: &RevisionMap, rows: &[String], recorded: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let applied = applied(map, rows);
    let mut out: Vec<String> = recorded.into_iter().filter(|r| !applied.contains(*r)).cloned().collect();
    super::order::sort_by(&mut out, |a, b| a < b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::source::from_text;

    fn map() -> RevisionMap {
        let file = |id: &str, revises: &str| {
            from_text(
                &format!("{id}_x.sql"),
                &format!("-- Revision ID: {id}\n-- Revises: {revises}\n\n-- migrate:upgrade\nCREATE TABLE t{id} (x);\n"),
            )
            .unwrap()
        };
        RevisionMap::new(vec![file("a1", ""), file("b2", "a1"), file("c3", "b2")]).unwrap()
    }

    #[test]
    fn applied_is_the_rows_and_their_ancestors() {
        let m = map();
        assert_eq!(applied(&m, &["b2".into()]), ["a1", "b2"].iter().map(|s| s.to_string()).collect());
        assert!(applied(&m, &[]).is_empty());
    }

    #[test]
    fn a_changed_applied_file_is_a_checksum_mismatch_and_unapplied_ones_are_not_checked() {
        let m = map();
        let sum = |id: &str| m.node(m.index_of(id).unwrap()).script.checksum();
        let mut recorded: HashMap<String, String> = [("a1", sum("a1")), ("b2", "0".repeat(64))].into_iter().map(|(k, v)| (k.into(), v)).collect();
        let err = verify_checksums(&m, &["b2".into()], &recorded).unwrap_err();
        assert_eq!(err.code(), "CHECKSUM_MISMATCH");
        assert!(matches!(err, Error::ChecksumMismatch { ref revision, .. } if revision == "b2"));
        assert!(verify_checksums(&m, &["a1".into()], &recorded).is_ok());
        recorded.insert("b2".into(), sum("b2"));
        assert!(verify_checksums(&m, &["c3".into()], &recorded).is_ok());
    }

    #[test]
    fn stale_lists_recorded_revisions_the_rows_no_longer_imply() {
        let m = map();
        let recorded = ["c3".to_string(), "a1".into(), "b2".into()];
        assert_eq!(stale(&m, &["a1".into()], &recorded), vec!["b2".to_string(), "c3".into()]);
        assert!(stale(&m, &["c3".into()], &recorded).is_empty());
    }
}
