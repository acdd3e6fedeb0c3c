//! The statement splitter against SQLite's own `sqlite3_complete`, which it reimplements
//! as one pass: random texts from the tokens that matter to it split the same way as
//! the old split (ask `sqlite3_complete` at every `;` from the statement's start), and
//! a large seed file splits in linear time.

use std::ffi::CString;

use athanor::core::statements::split_statements;
use proptest::prelude::*;

/// The reference: at each `;`, whether the text from the statement's start is complete.
fn reference_ends(sql: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut start = 0;
    for (pos, _) in sql.match_indices(';') {
        if pos < start {
            continue;
        }
        let chunk = CString::new(&sql[start..=pos]).unwrap();
        // SAFETY: a valid NUL-terminated string that outlives the call.
        if unsafe { rusqlite::ffi::sqlite3_complete(chunk.as_ptr()) } != 0 {
            ends.push(pos + 1);
            start = pos + 1;
        }
    }
    ends
}

/// Statement texts as the reference cuts them, with the same filtering as the splitter.
fn reference_split(sql: &str) -> Vec<String> {
    let mut cuts = reference_ends(sql);
    cuts.push(sql.len());
    let mut start = 0;
    let mut out = Vec::new();
    for end in cuts {
        out.push(sql[start..end].to_string());
        start = end;
    }
    // What the splitter keeps of a chunk: its trimmed text, when it holds SQL.
    let ours: Vec<String> = split_statements(sql, 1).into_iter().map(|s| s.sql).collect();
    let kept: Vec<String> = out
        .into_iter()
        .filter(|c| athanor::core::statements::first_token(c).is_some_and(|t| c[t..].trim() != ";"))
        .map(|c| c.trim().to_string())
        .collect();
    assert_eq!(ours, kept, "{sql:?}");
    kept
}

const TOKENS: &[&str] = &[
    ";",
    " ",
    "\n",
    "\t",
    "x",
    "CREATE",
    "create",
    "TEMP",
    "temporary",
    "TRIGGER",
    "trigger",
    "END",
    "end",
    "EXPLAIN",
    "BEGIN",
    "'",
    "\"",
    "`",
    "[",
    "]",
    "--",
    "/*",
    "*/",
    "-",
    "/",
    "*",
    "é",
    "$",
    "_",
    "endx",
    "t",
    "e",
    // Whole phrases, so the trigger states are reached often.
    "CREATE TRIGGER t BEGIN",
    "create temporary trigger",
    "CREATE TEMP TRIGGER",
    "EXPLAIN CREATE TRIGGER",
    "EXPLAIN create temp",
    "END;",
    "end ;",
    "SELECT 1;",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn splits_where_sqlite3_complete_says(parts in prop::collection::vec((prop::sample::select(TOKENS), any::<bool>()), 0..40)) {
        let sql: String = parts.iter().map(|(t, space)| if *space { format!("{t} ") } else { t.to_string() }).collect();
        reference_split(&sql);
    }
}

#[test]
fn known_shapes_split_as_sqlite_does() {
    for sql in [
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;",
        "CREATE TEMP TRIGGER t BEGIN SELECT 1; END ; x;",
        "EXPLAIN CREATE TRIGGER t BEGIN ; END; y;",
        "CREATE TABLE trigger (x); SELECT 1;",
        "SELECT 'a;b'; SELECT \"c;d\"; SELECT [e;f]; SELECT `g;h`;",
        "SELECT 1; -- x; \n SELECT 2; /* ; */ SELECT 3",
        "SELECT 1; /* unterminated ;",
        "SELECT 'unterminated ;",
    ] {
        reference_split(sql);
    }
}

/// A seed INSERT of 4 MB with 400,000 semicolons inside strings: one statement. The
/// old split asked `sqlite3_complete` from the start at every `;` (quadratic: an
/// 8.9 MB seed did not finish in 300 s).
#[test]
fn a_large_seed_insert_splits_in_linear_time() {
    let mut sql = String::from("INSERT INTO seed (v) VALUES\n");
    for i in 0..200_000 {
        sql.push_str(&format!("('a;b;{i}'),\n"));
    }
    sql.push_str("('last');\nSELECT 1;\n");
    let st = split_statements(&sql, 1);
    assert_eq!(st.len(), 2);
    assert_eq!(st[1].line, 200_003);
}
