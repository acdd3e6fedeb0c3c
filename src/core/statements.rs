//! Splitting a section into statements by SQLite's own rules: the state machine of
//! `sqlite3_complete` (SQLite's `complete.c`), run once over the whole text, so triggers
//! with `BEGIN … END`, semicolons in strings and comments behave as SQLite sees them, in
//! time linear in the text (calling `sqlite3_complete` at every `;` was quadratic).
//! Also what a transactional section may not hold: statements that end or begin the
//! run's transaction.

/// One statement of a section, with the file line of its first token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement with the comments written above it.
    pub sql: String,
    pub line: usize,
    /// Where the statement's first token starts in `sql`.
    pub code_at: usize,
}

impl Statement {
    /// The statement without the comments above it (for error messages).
    pub fn code(&self) -> &str {
        &self.sql[self.code_at..]
    }
}

/// The token classes of `complete.c`.
#[derive(Clone, Copy)]
enum Tok {
    Semi = 0,
    Ws = 1,
    Other = 2,
    Explain = 3,
    Create = 4,
    Temp = 5,
    Trigger = 6,
    End = 7,
}

/// `complete.c`'s transitions: states INVALID 0, START 1, NORMAL 2, EXPLAIN 3, CREATE 4,
/// TRIGGER 5, SEMI 6, END 7; a text is complete when it ends in START.
const TRANS: [[u8; 8]; 8] = [
    // SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END
    [1, 0, 2, 3, 4, 2, 2, 2], // INVALID
    [1, 1, 2, 3, 4, 2, 2, 2], // START
    [1, 2, 2, 2, 2, 2, 2, 2], // NORMAL
    [1, 3, 3, 2, 4, 2, 2, 2], // EXPLAIN
    [1, 4, 2, 2, 2, 4, 5, 2], // CREATE
    [6, 5, 5, 5, 5, 5, 5, 5], // TRIGGER
    [6, 6, 5, 5, 5, 5, 5, 7], // SEMI
    [1, 7, 5, 5, 5, 5, 5, 5], // END
];
const START: u8 = 1;
const NORMAL: u8 = 2;

/// SQLite's `IdChar`: letters, digits, `_`, `$` and every byte of a non-ASCII character.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The keyword class of an identifier, as `complete.c` tells them.
fn keyword(word: &[u8]) -> Tok {
    // Most words are none of these: their length says so without a comparison.
    if !matches!(word.len(), 3 | 4 | 6 | 7 | 9) {
        return Tok::Other;
    }
    let is = |k: &str| word.eq_ignore_ascii_case(k.as_bytes());
    if is("create") {
        Tok::Create
    } else if is("trigger") {
        Tok::Trigger
    } else if is("temp") || is("temporary") {
        Tok::Temp
    } else if is("end") {
        Tok::End
    } else if is("explain") {
        Tok::Explain
    } else {
        Tok::Other
    }
}

/// The bytes that can take the state machine out of NORMAL, or complete a statement:
/// `;`, the openers of strings and bracketed names, and the first bytes of comments.
/// Every other byte (letters, digits, blanks, other punctuation) leads from NORMAL back
/// to NORMAL.
static LEAVES_NORMAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    let stops = b";'\"`[-/";
    while k < stops.len() {
        t[stops[k] as usize] = true;
        k += 1;
    }
    t
};

/// Byte offsets just past each `;` that completes a statement in `sql`.
fn statement_ends(sql: &str) -> Vec<usize> {
    let b = sql.as_bytes();
    let mut ends = Vec::new();
    let mut state = 0u8;
    let mut i = 0;
    while i < b.len() {
        // Most of a statement is NORMAL: skip to the next byte that can matter (one
        // table load a byte, where classifying each token costs several times that;
        // this runs over every section of every file when it is read).
        if state == NORMAL {
            while i < b.len() && !LEAVES_NORMAL[b[i] as usize] {
                i += 1;
            }
            if i == b.len() {
                break;
            }
        }
        let tok = match b[i] {
            b';' => Tok::Semi,
            b' ' | b'\r' | b'\t' | b'\n' | b'\x0c' => Tok::Ws,
            b'/' if b.get(i + 1) == Some(&b'*') => {
                match find(b, i + 2, |j| b[j] == b'*' && b.get(j + 1) == Some(&b'/')) {
                    Some(j) => i = j + 1,
                    None => break, // unterminated: nothing after it completes
                }
                Tok::Ws
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                match find(b, i, |j| b[j] == b'\n') {
                    Some(j) => i = j,
                    None => break,
                }
                Tok::Ws
            }
            b'[' => {
                match find(b, i + 1, |j| b[j] == b']') {
                    Some(j) => i = j,
                    None => break,
                }
                Tok::Other
            }
            q @ (b'`' | b'"' | b'\'') => {
                match find(b, i + 1, |j| b[j] == q) {
                    Some(j) => i = j,
                    None => break,
                }
                Tok::Other
            }
            c if is_id_char(c) => {
                let start = i;
                while i + 1 < b.len() && is_id_char(b[i + 1]) {
                    i += 1;
                }
                // In NORMAL every token but `;` leads back to NORMAL: which keyword it
                // is cannot matter (most words of a statement, after its first).
                if state == NORMAL {
                    Tok::Other
                } else {
                    keyword(&b[start..=i])
                }
            }
            _ => Tok::Other,
        };
        state = TRANS[state as usize][tok as usize];
        i += 1;
        if matches!(tok, Tok::Semi) && state == START {
            ends.push(i);
        }
    }
    ends
}

fn find(b: &[u8], from: usize, hit: impl Fn(usize) -> bool) -> Option<usize> {
    (from..b.len()).find(|&j| hit(j))
}

/// Byte offset of the first character that is neither whitespace nor inside a comment,
/// or `None` when the text holds no SQL at all.
pub fn first_token(sql: &str) -> Option<usize> {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            _ => return Some(i),
        }
    }
    None
}

/// Splits `sql` (which starts at file line `first_line`) into statements. Text with no
/// SQL in it (blank, comments, lone `;`) yields nothing; a last statement without `;`
/// is kept, as SQLite would run it.
pub fn split_statements(sql: &str, first_line: usize) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line_at_start = first_line;
    let mut push = |chunk: &str, line_at_chunk: usize| {
        if let Some(tok) = first_token(chunk) {
            if chunk[tok..].trim() != ";" {
                let line = line_at_chunk + chunk[..tok].matches('\n').count();
                let sql = chunk.trim();
                let code_at = first_token(sql).unwrap_or(0);
                out.push(Statement { sql: sql.to_string(), line, code_at });
            }
        }
    };
    for end in statement_ends(sql) {
        let chunk = &sql[start..end];
        push(chunk, line_at_start);
        line_at_start += chunk.matches('\n').count();
        start = end;
    }
    push(&sql[start..], line_at_start);
    out
}

/// The statements of a section as text (offline rendering).
pub fn split_section(section: &crate::core::script::Section) -> Vec<String> {
    split_statements(&section.sql, section.first_line).into_iter().map(|s| s.sql).collect()
}

/// The next word of `code` (letters and `_`) after blanks and comments, and the rest.
fn next_word(code: &str) -> Option<(&str, &str)> {
    let rest = &code[first_token(code)?..];
    let len = rest.bytes().take_while(|&b| b.is_ascii_alphabetic() || b == b'_').count();
    (len > 0).then(|| rest.split_at(len))
}

/// When a statement (its code, from its first token) would begin or end the transaction
/// a section runs in (`BEGIN`, `COMMIT`, `END`, `ROLLBACK` without `TO`), which it is.
pub fn transaction_control(code: &str) -> Option<&'static str> {
    let (word, rest) = next_word(code)?;
    let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
    if is(word, "begin") {
        Some("BEGIN")
    } else if is(word, "commit") {
        Some("COMMIT")
    } else if is(word, "end") {
        Some("END")
    } else if is(word, "rollback") {
        // ROLLBACK [TRANSACTION] TO [SAVEPOINT] name undoes part of it and keeps it open.
        let mut next = next_word(rest);
        if let Some((w, r)) = next {
            if is(w, "transaction") {
                next = next_word(r);
            }
        }
        (!next.is_some_and(|(w, _)| is(w, "to"))).then_some("ROLLBACK")
    } else {
        None
    }
}

/// The first statement of `sql` (starting at file line `first_line`) that would begin or
/// end the section's transaction: its line and what it is. Allocates nothing per
/// statement: every file is checked when it is read.
pub fn find_transaction_control(sql: &str, first_line: usize) -> Option<(usize, &'static str)> {
    let mut start = 0;
    for end in statement_ends(sql).into_iter().chain(std::iter::once(sql.len())) {
        let chunk = &sql[start..end];
        if let Some(tok) = first_token(chunk) {
            if let Some(what) = transaction_control(&chunk[tok..]) {
                return Some((first_line + sql[..start + tok].matches('\n').count(), what));
            }
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[Statement]) -> Vec<(&str, usize)> {
        v.iter().map(|s| (s.sql.as_str(), s.line)).collect()
    }

    #[test]
    fn plain_statements_with_lines() {
        let s = split_statements("CREATE TABLE a (x);\n\nINSERT INTO a VALUES (1);\n", 10);
        assert_eq!(texts(&s), vec![("CREATE TABLE a (x);", 10), ("INSERT INTO a VALUES (1);", 12)]);
    }

    #[test]
    fn trigger_bodies_strings_and_comments_keep_their_semicolons() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  DELETE FROM b;\nEND;\nINSERT INTO a VALUES ('x;y'); -- c;\n/* d; */ SELECT \"q;\";";
        let s = split_statements(sql, 1);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].sql.ends_with("END;"));
        assert_eq!(texts(&s[1..]), vec![("INSERT INTO a VALUES ('x;y');", 5), ("-- c;\n/* d; */ SELECT \"q;\";", 6)]);
    }

    #[test]
    fn temp_triggers_explain_and_quoted_names() {
        let sql = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nEXPLAIN CREATE TRIGGER u AFTER INSERT ON a BEGIN SELECT 2; END;\nSELECT [a;b], `c;d` FROM x;";
        let s = split_statements(sql, 1);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[2].sql, "SELECT [a;b], `c;d` FROM x;");
    }

    #[test]
    fn comments_only_and_empty_yield_nothing() {
        assert!(split_statements("", 1).is_empty());
        assert!(split_statements("-- nothing here\n/* or here */\n", 1).is_empty());
        assert!(split_statements(";\n;", 1).is_empty());
    }

    #[test]
    fn last_statement_without_semicolon_is_kept() {
        let s = split_statements("SELECT 1;\nSELECT 2", 1);
        assert_eq!(texts(&s), vec![("SELECT 1;", 1), ("SELECT 2", 2)]);
    }

    #[test]
    fn transaction_control_is_told_from_savepoints() {
        let control = |sql: &str| transaction_control(split_statements(sql, 1)[0].code());
        for (sql, what) in [
            ("BEGIN;", Some("BEGIN")),
            ("begin immediate transaction;", Some("BEGIN")),
            ("-- c\nCOMMIT;", Some("COMMIT")),
            ("END TRANSACTION;", Some("END")),
            ("ROLLBACK;", Some("ROLLBACK")),
            ("rollback transaction;", Some("ROLLBACK")),
            ("ROLLBACK TO sp;", None),
            ("ROLLBACK TRANSACTION TO SAVEPOINT sp;", None),
            ("SAVEPOINT sp;", None),
            ("RELEASE sp;", None),
            ("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;", None),
            ("SELECT 'BEGIN';", None),
        ] {
            assert_eq!(control(sql), what, "{sql}");
        }
    }

    #[test]
    fn transaction_control_is_found_with_its_line() {
        let sql = "CREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\nEND;\n-- note\n  Commit;\n";
        assert_eq!(find_transaction_control(sql, 10), Some((15, "COMMIT")));
        assert_eq!(find_transaction_control("SAVEPOINT s; ROLLBACK TO s; RELEASE s;", 1), None);
        assert_eq!(find_transaction_control("SELECT 1;\nrollback", 1), Some((2, "ROLLBACK")));
    }
}
