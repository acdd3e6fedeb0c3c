//! A small SQL tokenizer, used only to normalize the CREATE texts SQLite keeps in
//! `sqlite_schema` (what the PRAGMAs do not expose: CHECK, COLLATE, clause order) and
//! to find a table's column definitions for `ADD COLUMN`. Detection itself reads
//! SQLite's PRAGMAs (see `model`).

/// One token, with where it sits in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub kind: Kind,
    /// Normalized text: identifiers and keywords unquoted and lower-cased (SQLite
    /// compares them case-insensitively), literals as written.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    /// An identifier written in quotes: never a keyword.
    Quoted,
    Str,
    Num,
    Punct,
}

impl Tok {
    /// An unquoted keyword `kw` (lower-case).
    pub fn is(&self, kw: &str) -> bool {
        self.kind == Kind::Word && self.text == kw
    }
}

/// Splits `sql` into tokens, dropping whitespace and comments. Never fails: an
/// unterminated string or quote runs to the end of the text.
pub fn tokenize(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            continue;
        }
        let (kind, text) = match c {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                let mut inner = Vec::new();
                while i < b.len() {
                    if b[i] == close {
                        // A doubled quote is an escaped quote (not for `[...]`).
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            inner.push(close);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    inner.push(b[i]);
                    i += 1;
                }
                i = (i + 1).min(b.len());
                let inner = String::from_utf8_lossy(&inner).into_owned();
                if c == b'\'' {
                    (Kind::Str, sql[start..i].to_string())
                } else {
                    (Kind::Quoted, inner.to_ascii_lowercase())
                }
            }
            b'0'..=b'9' | b'.' if c != b'.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                    i += 1;
                }
                (Kind::Num, sql[start..i].to_ascii_lowercase())
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                    i += 1;
                }
                (Kind::Word, sql[start..i].to_ascii_lowercase())
            }
            _ => {
                i += 1;
                (Kind::Punct, (c as char).to_string())
            }
        };
        out.push(Tok { kind, text, start, end: i });
    }
    out
}

/// Tokens joined by single spaces: equal for texts that differ only in whitespace,
/// comments, keyword case or identifier quoting.
pub fn normalize(toks: &[Tok]) -> String {
    let mut s = String::new();
    for (n, t) in toks.iter().enumerate() {
        if n > 0 {
            s.push(' ');
        }
        if t.kind == Kind::Quoted && !t.text.chars().all(|c| c.is_alphanumeric() || c == '_') {
            s.push_str(&quote(&t.text));
        } else {
            s.push_str(&t.text);
        }
    }
    s
}

/// `name` as a double-quoted SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a single-quoted SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Splits `toks` at commas that are not inside parentheses.
pub fn split_top_level(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.text.as_str() {
            "(" if t.kind == Kind::Punct => depth += 1,
            ")" if t.kind == Kind::Punct => depth -= 1,
            "," if t.kind == Kind::Punct && depth == 0 => {
                parts.push(&toks[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    if from < toks.len() {
        parts.push(&toks[from..]);
    }
    parts
}

/// The index of the `)` closing the `(` at `open`.
pub fn matching_paren(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.kind != Kind::Punct {
            continue;
        }
        match t.text.as_str() {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_ignores_layout_case_and_quotes() {
        let a = normalize(&tokenize("CREATE TABLE \"Users\" (id INTEGER, -- note\n name TEXT /* x */ DEFAULT 'A b')"));
        let b = normalize(&tokenize("create table users(ID integer,name text default 'A b')"));
        assert_eq!(a, b);
        assert_ne!(a, normalize(&tokenize("create table users(id integer, name text default 'a b')")));
    }

    #[test]
    fn splits_at_top_level_commas_only() {
        let t = tokenize("a INT CHECK (a IN (1, 2)), b, UNIQUE(a, b)");
        let parts: Vec<String> = split_top_level(&t).iter().map(|p| normalize(p)).collect();
        assert_eq!(parts, ["a int check ( a in ( 1 , 2 ) )", "b", "unique ( a , b )"]);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for s in ["'abc", "\"x", "[y", "/* z", "-- w", "x'", "(((", "é€"] {
            let _ = normalize(&tokenize(s));
        }
    }
}
