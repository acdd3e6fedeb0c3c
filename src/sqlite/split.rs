//! Splitting a section into statements by SQLite's own rules (`sqlite3_complete`):
//! triggers with `BEGIN … END`, semicolons in strings and comments all behave as
//! SQLite itself sees them.

use std::ffi::CString;

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

fn is_complete(sql: &str) -> bool {
    // A NUL inside the text cannot be part of valid SQL; treat it as incomplete and let
    // SQLite report it when the statement runs.
    let Ok(c) = CString::new(sql) else { return false };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
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
    let push = |chunk: &str, line_at_chunk: usize, out: &mut Vec<Statement>| {
        if let Some(tok) = first_token(chunk) {
            if chunk[tok..].trim() != ";" {
                let line = line_at_chunk + chunk[..tok].matches('\n').count();
                let sql = chunk.trim();
                let code_at = first_token(sql).unwrap_or(0);
                out.push(Statement { sql: sql.to_string(), line, code_at });
            }
        }
    };
    for (pos, _) in sql.match_indices(';') {
        if pos < start {
            continue;
        }
        let chunk = &sql[start..=pos];
        if is_complete(chunk) {
            push(chunk, line_at_start, &mut out);
            line_at_start += chunk.matches('\n').count();
            start = pos + 1;
        }
    }
    push(&sql[start..], line_at_start, &mut out);
    out
}

/// The statements of a section as text (offline rendering).
pub fn split_section(section: &crate::core::script::Section) -> Vec<String> {
    split_statements(&section.sql, section.first_line).into_iter().map(|s| s.sql).collect()
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
}
