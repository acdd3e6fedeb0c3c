//! Alembic's text formats for revisions (`Script.cmd_format`, `log_entry`), character
//! for character.

use crate::core::graph::{Node, RevisionMap};

pub struct Show {
    pub verbose: bool,
    pub include_branches: bool,
    pub include_doc: bool,
    pub include_parents: bool,
    pub tree_indicators: bool,
    pub head_indicators: bool,
    pub current: bool,
}

impl Show {
    pub fn plain() -> Show {
        Show {
            verbose: false,
            include_branches: false,
            include_doc: false,
            include_parents: false,
            tree_indicators: true,
            head_indicators: true,
            current: false,
        }
    }
}

fn down_revision(map: &RevisionMap, n: &Node) -> String {
    if n.parents.is_empty() {
        "<base>".into()
    } else {
        n.parents.iter().map(|&p| map.id(p)).collect::<Vec<_>>().join(", ")
    }
}

fn labels(n: &Node) -> String {
    n.labels.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// `cmd_format`: `log_entry` when verbose, else `_head_only`.
pub fn cmd_format(map: &RevisionMap, rev: usize, s: &Show) -> String {
    if s.verbose {
        log_entry(map, rev, s.current)
    } else {
        head_only(map, rev, s)
    }
}

fn head_only(map: &RevisionMap, rev: usize, s: &Show) -> String {
    let n = map.node(rev);
    let mut text = n.id().to_string();
    if s.include_parents {
        text = if n.script.depends_on.is_empty() {
            format!("{} -> {text}", down_revision(map, n))
        } else {
            format!("{} ({}) -> {text}", down_revision(map, n), n.script.depends_on.join(", "))
        };
    }
    if s.include_branches && !n.labels.is_empty() {
        text.push_str(&format!(" ({})", labels(n)));
    }
    if s.head_indicators || s.tree_indicators {
        if n.is_real_head() {
            text.push_str(" (head)");
        }
        if n.is_head() && !n.is_real_head() {
            text.push_str(" (effective head)");
        }
        if s.current {
            text.push_str(" (current)");
        }
    }
    if s.tree_indicators {
        if n.is_branch_point() {
            text.push_str(" (branchpoint)");
        }
        if n.is_merge_point() {
            text.push_str(" (mergepoint)");
        }
    }
    if s.include_doc {
        text.push_str(&format!(", {}", n.script.doc()));
    }
    text
}

/// `log_entry`: the verbose block, ending with a newline.
pub fn log_entry(map: &RevisionMap, rev: usize, current: bool) -> String {
    let n = map.node(rev);
    let mut e = format!(
        "Rev: {}{}{}{}{}\n",
        n.id(),
        if n.is_head() { " (head)" } else { "" },
        if n.is_branch_point() { " (branchpoint)" } else { "" },
        if n.is_merge_point() { " (mergepoint)" } else { "" },
        if current { " (current)" } else { "" },
    );
    if n.is_merge_point() {
        e.push_str(&format!("Merges: {}\n", down_revision(map, n)));
    } else {
        e.push_str(&format!("Parent: {}\n", down_revision(map, n)));
    }
    if !n.script.depends_on.is_empty() {
        e.push_str(&format!("Also depends on: {}\n", n.script.depends_on.join(", ")));
    }
    if n.is_branch_point() {
        e.push_str(&format!("Branches into: {}\n", n.next.iter().map(|&c| map.id(c)).collect::<Vec<_>>().join(", ")));
    }
    if !n.labels.is_empty() {
        e.push_str(&format!("Branch names: {}\n", labels(n)));
    }
    e.push_str(&format!("Path: {}\n", n.script.path));
    let doc: Vec<String> = n.script.longdoc().lines().map(|l| format!("    {l}")).collect();
    e.push_str(&format!("\n{}\n", doc.join("\n")));
    e
}
