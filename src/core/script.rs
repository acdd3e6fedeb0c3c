//! Migration scripts: the `.sql` file format (header comments, `-- migrate:upgrade` /
//! `-- migrate:downgrade` sections), parsed and rendered, and the revision checksum.

use super::error::{Error, Result};
use super::statements;

/// One section of SQL with where it starts in the file, so errors can name a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub sql: String,
    /// 1-based line number of the first line of `sql` in the file.
    pub first_line: usize,
    /// `false` when the marker says `transaction:false`: run outside any transaction.
    pub transactional: bool,
}

impl Section {
    pub fn new(sql: impl Into<String>) -> Section {
        Section { sql: sql.into(), first_line: 1, transactional: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub id: String,
    /// `Revises:`; empty for a base, several for a merge (in written order).
    pub parents: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub create_date: Option<String>,
    pub message: String,
    pub upgrade: Section,
    /// `None`: no downgrade section, the revision is irreversible.
    pub downgrade: Option<Section>,
    /// File name (or a name given by the caller); sorts the load order as Alembic does.
    pub file_name: String,
    /// Path shown in `history --verbose` / `show`.
    pub path: String,
}

const UPGRADE_MARKER: &str = "-- migrate:upgrade";
const DOWNGRADE_MARKER: &str = "-- migrate:downgrade";
/// In code point order: an error lists the ones it finds in this order.
const ILLEGAL_ID_CHARS: &[char] = &['+', ',', '-', ':', '@'];
/// The header keys athanor reads, in the order they are written.
const HEADERS: [&str; 6] = ["Revision ID", "Revises", "Branch Labels", "Depends On", "Create Date", "Message"];

/// A NUL byte: SQLite would stop reading a statement there and silently skip the rest.
pub fn check_no_nul(path: &str, first_line: usize, text: &str) -> Result<()> {
    // `contains` first: memchr's word-at-a-time scan, where a byte-by-byte `position`
    // was a tenth of parsing 1,000 files in the wasm.
    if !text.as_bytes().contains(&0) {
        return Ok(());
    }
    match text.bytes().position(|b| b == 0) {
        None => Ok(()),
        Some(at) => {
            let line = first_line + text.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            Err(Error::parse(path, line, "NUL byte in the file (SQLite would skip what follows it)"))
        }
    }
}

/// What a section may not hold: NUL bytes, and in a transactional section a statement
/// that begins or ends the run's transaction (it would commit or drop the steps before
/// it while the version table said otherwise). A `transaction:false` section manages
/// its own transactions.
pub fn check_section(path: &str, section: &Section) -> Result<()> {
    check_no_nul(path, section.first_line, &section.sql)?;
    check_transaction_control(path, section)
}

/// `check_section` without the NUL check: a file's text has had it already.
fn check_transaction_control(path: &str, section: &Section) -> Result<()> {
    if section.transactional {
        if let Some((st, what)) = statements::find_transaction_control(&section.sql, section.first_line) {
            return Err(Error::parse(
                path,
                st,
                format!("{what} ends or begins the migration's transaction; remove it, or run the section with '-- migrate:upgrade transaction:false' / '-- migrate:downgrade transaction:false'"),
            ));
        }
    }
    Ok(())
}

/// Checks a revision id or branch label: Alembic's `verify_rev_id` (same message), then
/// a safe character set, ASCII letters, digits and `_`. An id names a file, so nothing
/// else may reach a path (`..`, `/`) or a header (line breaks, control characters).
pub fn check_identifier(kind: &str, value: &str) -> std::result::Result<(), String> {
    if value.is_empty() {
        return Err(format!("empty {kind}"));
    }
    if value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(());
    }
    let list: Vec<String> = ILLEGAL_ID_CHARS.iter().filter(|&&c| value.contains(c)).map(|c| c.to_string()).collect();
    if !list.is_empty() {
        return Err(format!("Character(s) '{}' not allowed in {kind} '{}'", list.join(", "), shown(value)));
    }
    Err(format!("{kind} '{}' may hold only ASCII letters, digits and '_'", shown(value)))
}

/// A value for an error message: control characters escaped (`\n`, `\u{1b}`), so a
/// message stays one line and shows what was there. (Not `escape_debug`, whose Unicode
/// tables cost the wasm 4 KiB.)
fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// ASCII whitespace as `char::is_whitespace` has it (vertical tab included).
fn is_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `str::trim`, fast on ASCII: the same characters (`char::is_whitespace`, which for
/// ASCII also counts vertical tab) go, byte by byte; other text takes the Unicode path.
fn trim(s: &str) -> &str {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_space(b)).map_or(start, |i| i + 1);
    let t = &s[start..end.max(start)];
    // A non-ASCII byte at either end may start or end Unicode whitespace.
    if t.as_bytes().first().is_some_and(|b| !b.is_ascii()) || t.as_bytes().last().is_some_and(|b| !b.is_ascii()) {
        t.trim()
    } else {
        t
    }
}

/// A header's comma-separated list, items trimmed, empty ones dropped.
pub fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Parses a section marker line's options (`transaction:false`).
fn marker_options(file: &str, line_no: usize, rest: &str) -> Result<bool> {
    let mut transactional = true;
    for opt in rest.split_whitespace() {
        match opt {
            "transaction:false" => transactional = false,
            "transaction:true" => transactional = true,
            other => return Err(Error::parse(file, line_no, format!("unknown section option '{other}' (known: transaction:false)"))),
        }
    }
    Ok(transactional)
}

/// Parses the bytes of a migration file. `file_name` names it in errors.
pub fn parse_bytes(file_name: &str, path: &str, bytes: &[u8]) -> Result<Script> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(file_name, path, text),
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(Error::parse(path, line, format!("not valid UTF-8 (byte {at})")))
        }
    }
}

#[derive(PartialEq)]
enum Part {
    Upgrade,
    Downgrade,
}

/// A section being read: where its body starts (byte offset, line) and its option.
struct Open {
    body: usize,
    first_line: usize,
    transactional: bool,
}

/// The body of a section, `text[start..end]` with line endings as `\n`: each line loses
/// one `\r` before its `\n` (and the last line one trailing `\r`).
fn section_sql(text: &str, start: usize, end: usize) -> String {
    let body = if start < end { &text[start..end] } else { "" };
    if !body.contains('\r') {
        return body.to_string();
    }
    let sql = body.replace("\r\n", "\n");
    sql.strip_suffix('\r').map(str::to_string).unwrap_or(sql)
}

/// The header lines of a file as read so far.
#[derive(Default)]
struct Headers {
    id: Option<String>,
    parents: Option<Vec<String>>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    create_date: Option<String>,
    message: String,
    /// Where each known header was first seen: a repeated one is an error, not a
    /// silent "last one wins" (a message could otherwise smuggle in a `Revises:`).
    seen: [Option<usize>; 6],
}

impl Headers {
    /// One line before the first section (trimmed, not blank, not a marker). Apart from
    /// `parse`'s loop, which runs over every line of every file: V8 recompiles that hot
    /// loop with its optimising compiler, and the smaller it is, the sooner (and with
    /// less of the CPU the parse itself needs) that is done.
    #[inline(never)]
    fn line(&mut self, path: &str, line_no: usize, t: &str) -> Result<()> {
        let Some(comment) = t.strip_prefix("--") else {
            return Err(Error::parse(path, line_no, "SQL before the '-- migrate:upgrade' marker"));
        };
        let Some((key, value)) = comment.split_once(':') else { return Ok(()) };
        let value = trim(value);
        let key = trim(key);
        let Some(header) = HEADERS.iter().position(|h| key.eq_ignore_ascii_case(h)) else {
            // Any other comment line in the header is the author's own.
            return Ok(());
        };
        if let Some(first) = self.seen[header].replace(line_no) {
            return Err(Error::parse(path, line_no, format!("repeated '-- {}:' header (first on line {first})", HEADERS[header])));
        }
        let ids = |kind: &str| -> Result<Vec<String>> {
            let list = split_list(value);
            for v in &list {
                check_identifier(kind, v).map_err(|m| Error::parse(path, line_no, m))?;
            }
            Ok(list)
        };
        match header {
            0 => {
                check_identifier("revision identifier", value).map_err(|m| Error::parse(path, line_no, m))?;
                self.id = Some(value.to_string());
            }
            1 => self.parents = Some(ids("revision identifier")?),
            2 => self.branch_labels = ids("branch label")?,
            3 => {
                self.depends_on = split_list(value);
                for d in &self.depends_on {
                    if d.contains(char::is_whitespace) {
                        return Err(Error::parse(path, line_no, format!("whitespace in dependency '{d}'")));
                    }
                    check_identifier("dependency", d).map_err(|m| Error::parse(path, line_no, m))?;
                }
            }
            4 => self.create_date = (!value.is_empty()).then(|| value.to_string()),
            _ => self.message = value.to_string(),
        }
        Ok(())
    }
}

/// A `-- migrate:` marker line (trimmed): which section it opens and whether that
/// section is transactional. `up_seen`/`down_seen`: whether that section was opened
/// before. Apart from `parse`'s loop, as [`Headers::line`].
#[inline(never)]
fn marker(path: &str, line_no: usize, t: &str, up_seen: bool, down_seen: bool) -> Result<(Part, bool)> {
    let marker = match marker_rest(t, UPGRADE_MARKER) {
        Some(rest) => Some((Part::Upgrade, rest, up_seen, "upgrade")),
        None => marker_rest(t, DOWNGRADE_MARKER).map(|rest| (Part::Downgrade, rest, down_seen, "downgrade")),
    };
    let Some((which, rest, seen, name)) = marker else {
        return Err(Error::parse(path, line_no, format!("unknown section marker '{t}' (expected '-- migrate:upgrade' or '-- migrate:downgrade')")));
    };
    if seen {
        return Err(Error::parse(path, line_no, format!("second '-- migrate:{name}' section")));
    }
    Ok((which, marker_options(path, line_no, rest)?))
}

/// Parses the text of a migration file.
pub fn parse(file_name: &str, path: &str, text: &str) -> Result<Script> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_no_nul(path, 1, text)?;
    let mut headers = Headers::default();
    let mut upgrade: Option<Section> = None;
    let mut downgrade: Option<Section> = None;
    // The section whose body is being read, and which one it is.
    let mut open: Option<(Open, Part)> = None;
    let mut offset = 0;
    let close = |open: Option<(Open, Part)>, end: usize, up: &mut Option<Section>, down: &mut Option<Section>| {
        if let Some((o, which)) = open {
            let section = Section { sql: section_sql(text, o.body, end), first_line: o.first_line, transactional: o.transactional };
            match which {
                Part::Upgrade => *up = Some(section),
                Part::Downgrade => *down = Some(section),
            }
        }
    };

    for (idx, raw) in text.split('\n').enumerate() {
        let line_start = offset;
        offset += raw.len() + 1;
        // Most lines are SQL in a section: only one starting with `-` can be a marker
        // (a non-ASCII lead byte may be Unicode whitespace: look closer).
        let lead = raw.bytes().find(|b| !is_space(b));
        if open.is_some() && lead.is_none_or(|b| b != b'-' && b.is_ascii()) {
            continue;
        }
        let line_no = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let t = trim(line);
        if t.starts_with("-- migrate:") {
            let up_seen = upgrade.is_some() || matches!(open, Some((_, Part::Upgrade)));
            let down_seen = downgrade.is_some() || matches!(open, Some((_, Part::Downgrade)));
            let (which, transactional) = marker(path, line_no, t, up_seen, down_seen)?;
            // The previous section ends before this marker's line (and its `\n`).
            close(open.take(), line_start.saturating_sub(1), &mut upgrade, &mut downgrade);
            open = Some((Open { body: offset.min(text.len()), first_line: line_no + 1, transactional }, which));
            continue;
        }
        if open.is_some() || t.is_empty() {
            continue;
        }
        headers.line(path, line_no, t)?;
    }
    close(open.take(), text.len(), &mut upgrade, &mut downgrade);

    let Headers { id, parents, branch_labels, depends_on, create_date, message, .. } = headers;
    let id = id.ok_or_else(|| Error::parse(path, 1, "missing '-- Revision ID:' header"))?;
    let parents = parents.ok_or_else(|| Error::parse(path, 1, "missing '-- Revises:' header (leave it empty for a base revision)"))?;
    if parents.contains(&id) {
        return Err(Error::Cycle { kind: "Self-loop", revisions: vec![id] });
    }
    if depends_on.contains(&id) {
        return Err(Error::Cycle { kind: "Dependency self-loop", revisions: vec![id] });
    }
    let upgrade = upgrade.ok_or_else(|| Error::parse(path, text.lines().count().max(1), "missing '-- migrate:upgrade' section"))?;
    check_transaction_control(path, &upgrade)?;
    if let Some(down) = &downgrade {
        check_transaction_control(path, down)?;
    }
    Ok(Script {
        id,
        parents,
        branch_labels,
        depends_on,
        create_date,
        message,
        upgrade,
        downgrade,
        file_name: file_name.to_string(),
        path: path.to_string(),
    })
}

/// `Some(options)` when `line` (trimmed) is `marker` optionally followed by options.
fn marker_rest<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

fn section_marker(marker: &str, s: &Section) -> String {
    if s.transactional {
        marker.to_string()
    } else {
        format!("{marker} transaction:false")
    }
}

/// Renders a script in the canonical file format; `parse(render(s))` gives `s` back
/// (up to line numbers).
pub fn render(s: &Script) -> String {
    let mut out = String::new();
    out.push_str(&format!("-- Revision ID: {}\n", s.id));
    out.push_str(&format!("-- Revises: {}\n", s.parents.join(", ")).replace(": \n", ":\n"));
    if !s.branch_labels.is_empty() {
        out.push_str(&format!("-- Branch Labels: {}\n", s.branch_labels.join(", ")));
    }
    if !s.depends_on.is_empty() {
        out.push_str(&format!("-- Depends On: {}\n", s.depends_on.join(", ")));
    }
    out.push_str(&format!("-- Create Date: {}\n", s.create_date.as_deref().unwrap_or("")).replace(": \n", ":\n"));
    out.push_str(&format!("-- Message: {}\n", one_line(&s.message)).replace(": \n", ":\n"));
    out.push('\n');
    out.push_str(&section_marker(UPGRADE_MARKER, &s.upgrade));
    out.push('\n');
    push_body(&mut out, &s.upgrade.sql);
    if let Some(down) = &s.downgrade {
        out.push('\n');
        out.push_str(&section_marker(DOWNGRADE_MARKER, down));
        out.push('\n');
        push_body(&mut out, &down.sql);
    }
    out
}

/// A header value on one line: line breaks and other control characters become spaces,
/// so a message can never start a header or a section of its own.
pub fn one_line(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

fn push_body(out: &mut String, sql: &str) {
    let body = sql.trim_matches('\n');
    if !body.is_empty() {
        out.push_str(body);
        out.push('\n');
    }
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// [`Script::checksum`] of each script. The CLI's wasm hashes four at once
/// ([`super::sha256`]); elsewhere one by one, so the other wasms stay as small as they were.
pub fn checksums(scripts: &[&Script]) -> Vec<String> {
    #[cfg(all(target_arch = "wasm32", feature = "commands"))]
    {
        let inputs: Vec<Vec<u8>> = scripts.iter().map(|s| s.checksum_input()).collect();
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        super::sha256::digests(&refs).iter().map(|d| to_hex(d)).collect()
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "commands")))]
    {
        scripts.iter().map(|s| s.checksum()).collect()
    }
}

impl Script {
    /// SHA-256 (hex) of `athanor-v1\n<id>\n<upgrade SQL>` with CRLF turned into LF and
    /// surrounding whitespace trimmed: what was applied, so a later edit is detected.
    pub fn checksum(&self) -> String {
        #[cfg(all(target_arch = "wasm32", feature = "commands"))]
        {
            checksums(&[self]).remove(0)
        }
        #[cfg(not(all(target_arch = "wasm32", feature = "commands")))]
        {
            use sha2::{Digest, Sha256};
            let sql = self.upgrade.sql.replace("\r\n", "\n");
            let mut h = Sha256::new();
            h.update(b"athanor-v1\n");
            h.update(self.id.as_bytes());
            h.update(b"\n");
            h.update(sql.trim().as_bytes());
            to_hex(&h.finalize())
        }
    }

    /// What [`Script::checksum`] hashes.
    #[cfg(all(target_arch = "wasm32", feature = "commands"))]
    fn checksum_input(&self) -> Vec<u8> {
        // A file's sections have LF line endings already (`section_sql`).
        let sql = match self.upgrade.sql.contains('\r') {
            true => std::borrow::Cow::Owned(self.upgrade.sql.replace("\r\n", "\n")),
            false => std::borrow::Cow::Borrowed(self.upgrade.sql.as_str()),
        };
        [b"athanor-v1\n", self.id.as_bytes(), b"\n", sql.trim().as_bytes()].concat()
    }

    /// Alembic's module docstring equivalent, for `history --verbose` and `show`.
    pub fn longdoc(&self) -> String {
        let mut doc = String::new();
        doc.push_str(self.message.trim());
        doc.push_str("\n\n");
        doc.push_str(&format!("Revision ID: {}\n", self.id));
        doc.push_str(&format!("Revises: {}\n", self.parents.join(", ")));
        doc.push_str(&format!("Create Date: {}", self.create_date.as_deref().unwrap_or("")));
        doc.trim().to_string()
    }

    /// The first paragraph of the doc: the message.
    pub fn doc(&self) -> std::borrow::Cow<'_, str> {
        // The doc starts with the trimmed message: its first paragraph is the doc's
        // (without building the rest, for each of 1,000 `Running upgrade` lines).
        let message = self.message.trim();
        if !message.is_empty() {
            return message.split("\n\n").next().unwrap_or("").into();
        }
        let long = self.longdoc();
        long.split("\n\n").next().unwrap_or("").to_string().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "-- Revision ID: 1975ea83b712\n-- Revises: ae1027a6acf\n-- Branch Labels: billing\n-- Depends On: 55af2cb1c267\n-- Create Date: 2026-11-27 10:00:00.000000\n-- Message: add account table\n\n-- migrate:upgrade\nCREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n\n-- migrate:downgrade\nDROP TABLE account;\n";

    #[test]
    fn parses_every_header_and_both_sections() {
        let s = parse("1975ea83b712_add.sql", "m/1975ea83b712_add.sql", FULL).unwrap();
        assert_eq!(s.id, "1975ea83b712");
        assert_eq!(s.parents, vec!["ae1027a6acf"]);
        assert_eq!(s.branch_labels, vec!["billing"]);
        assert_eq!(s.depends_on, vec!["55af2cb1c267"]);
        assert_eq!(s.create_date.as_deref(), Some("2026-11-27 10:00:00.000000"));
        assert_eq!(s.message, "add account table");
        assert_eq!(s.upgrade.first_line, 9);
        assert!(s.upgrade.sql.starts_with("CREATE TABLE account"));
        let down = s.downgrade.as_ref().unwrap();
        assert_eq!(down.first_line, 12);
        assert_eq!(down.sql.trim(), "DROP TABLE account;");
    }

    #[test]
    fn render_round_trips() {
        let s = parse("f.sql", "f.sql", FULL).unwrap();
        let again = parse("f.sql", "f.sql", &render(&s)).unwrap();
        assert_eq!(render(&again), render(&s));
        assert_eq!(again.checksum(), s.checksum());
        assert_eq!(render(&s), FULL);
    }

    #[test]
    fn missing_downgrade_is_irreversible_and_empty_is_a_noop() {
        let none = parse("a.sql", "a.sql", "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n").unwrap();
        assert!(none.downgrade.is_none());
        assert!(none.parents.is_empty());
        let empty = parse("a.sql", "a.sql", "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n").unwrap();
        assert_eq!(empty.downgrade.unwrap().sql.trim(), "");
    }

    #[test]
    fn merge_parents_keep_their_order() {
        let s = parse("m.sql", "m.sql", "-- Revision ID: m1\n-- Revises: b2, a1\n-- migrate:upgrade\n").unwrap();
        assert_eq!(s.parents, vec!["b2", "a1"]);
    }

    #[test]
    fn transaction_option_on_a_section() {
        let s = parse("m.sql", "m.sql", "-- Revision ID: m1\n-- Revises:\n-- migrate:upgrade transaction:false\nVACUUM;\n-- migrate:downgrade\n")
            .unwrap();
        assert!(!s.upgrade.transactional);
        assert!(s.downgrade.unwrap().transactional);
        let e = parse("m.sql", "m.sql", "-- Revision ID: m1\n-- Revises:\n-- migrate:upgrade fast:yes\n").unwrap_err();
        assert_eq!(e.code(), "PARSE_ERROR");
        assert_eq!(e.to_string(), "m.sql:3: unknown section option 'fast:yes' (known: transaction:false)");
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases: &[(&str, &str)] = &[
            ("-- Revises:\n-- migrate:upgrade\n", "x.sql:1: missing '-- Revision ID:' header"),
            ("-- Revision ID: a1\n-- migrate:upgrade\n", "x.sql:1: missing '-- Revises:' header (leave it empty for a base revision)"),
            ("-- Revision ID: a1\n-- Revises:\nSELECT 1;\n", "x.sql:3: SQL before the '-- migrate:upgrade' marker"),
            ("-- Revision ID: a1\n-- Revises:\n", "x.sql:2: missing '-- migrate:upgrade' section"),
            ("-- Revision ID: a-1\n-- Revises:\n-- migrate:upgrade\n", "x.sql:1: Character(s) '-' not allowed in revision identifier 'a-1'"),
            ("-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\n-- migrate:upgrade\n", "x.sql:4: second '-- migrate:upgrade' section"),
            (
                "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrad\n",
                "x.sql:3: unknown section marker '-- migrate:upgrad' (expected '-- migrate:upgrade' or '-- migrate:downgrade')",
            ),
        ];
        for (text, msg) in cases {
            let e = parse("x.sql", "x.sql", text).unwrap_err();
            assert_eq!(e.code(), "PARSE_ERROR", "{text}");
            assert_eq!(&e.to_string(), msg);
        }
    }

    #[test]
    fn non_utf8_names_the_line() {
        let e = parse_bytes("x.sql", "x.sql", b"-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT '\xff';\n").unwrap_err();
        assert_eq!(e.to_string(), "x.sql:4: not valid UTF-8 (byte 58)");
    }

    #[test]
    fn self_loops_are_cycles() {
        let e = parse("x.sql", "x.sql", "-- Revision ID: a1\n-- Revises: a1\n-- migrate:upgrade\n").unwrap_err();
        assert_eq!(e.code(), "CYCLE");
        assert_eq!(e.to_string(), "Self-loop is detected in revisions (a1)");
    }

    #[test]
    fn checksum_ignores_line_endings_and_downgrade() {
        let a = parse("a.sql", "a.sql", "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n").unwrap();
        let b = parse("a.sql", "a.sql", "-- Revision ID: a1\r\n-- Revises:\r\n-- migrate:upgrade\r\nSELECT 1;\r\n").unwrap();
        assert_eq!(a.checksum(), b.checksum());
        let c = parse("a.sql", "a.sql", "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT 3;\n").unwrap();
        assert_ne!(a.checksum(), c.checksum());
        assert_eq!(a.checksum().len(), 64);
    }

    #[test]
    fn doc_is_the_first_paragraph_of_longdoc() {
        let mut s = parse("a.sql", "a.sql", FULL).unwrap();
        for message in ["add account table", "", "  \n ", "one\n\ntwo", "\n\n lead\ning \n\n", "a\r\n\r\nb", "x\n \ny"] {
            s.message = message.into();
            assert_eq!(s.doc(), s.longdoc().split("\n\n").next().unwrap(), "{message:?}");
        }
    }

    /// The sections as whole lines: split on `\n`, one `\r` off each line, joined.
    fn by_lines(text: &str) -> (String, Option<String>) {
        let (mut up, mut down, mut cur) = (Vec::new(), Vec::new(), 0);
        for raw in text.split('\n') {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            match line.trim() {
                "-- migrate:upgrade" => cur = 1,
                "-- migrate:downgrade" => cur = 2,
                _ if cur == 1 => up.push(line),
                _ if cur == 2 => down.push(line),
                _ => {}
            }
        }
        (up.join("\n"), text.contains("-- migrate:downgrade").then(|| down.join("\n")))
    }

    #[test]
    fn sections_are_the_lines_between_markers() {
        let head = "-- Revision ID: a1\n-- Revises:\n";
        for body in [
            "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n",
            "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade",
            "-- migrate:upgrade\n-- migrate:downgrade\n",
            "-- migrate:upgrade",
            "-- migrate:upgrade\r\nA\r\n\r\n  -- a comment\r\nB\r\r\n-- migrate:downgrade\r\nC\r",
            "-- migrate:upgrade\n\n\nA\n\t-- x\n\n-- migrate:downgrade\n\nB\n\n",
            "  -- migrate:upgrade  \nA -- migrate:downgrade in a line\n\u{a0}\n-- migrate:downgrade\nZ",
        ] {
            let text = format!("{head}{body}");
            let s = parse("a.sql", "a.sql", &text).unwrap();
            let (up, down) = by_lines(&text);
            assert_eq!((s.upgrade.sql.as_str(), s.downgrade.as_ref().map(|d| d.sql.as_str())), (up.as_str(), down.as_deref()), "{body:?}");
        }
        let s = parse("a.sql", "a.sql", &format!("{head}\n-- migrate:upgrade\nA\n\n-- migrate:downgrade\nB")).unwrap();
        assert_eq!((s.upgrade.first_line, s.downgrade.unwrap().first_line), (5, 8));
        // Header values trim as str::trim does, vertical tab and Unicode spaces included.
        let s =
            parse("a.sql", "a.sql", "-- Revision ID:\u{b}a1\u{a0}\n-- Revises:\u{3000}\n-- MESSAGE : hi \u{b}\n\x0b-- migrate:upgrade\nA\n").unwrap();
        assert_eq!((s.id.as_str(), s.parents.len(), s.message.as_str(), s.upgrade.sql.as_str()), ("a1", 0, "hi", "A\n"));
        // A marker after Unicode whitespace is still a marker.
        let e = parse("a.sql", "a.sql", &format!("{head}-- migrate:upgrade\nA\n\u{a0}-- migrate:upgrade\n")).unwrap_err();
        assert_eq!(e.to_string(), "a.sql:5: second '-- migrate:upgrade' section");
    }
}
