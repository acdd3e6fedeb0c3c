//! `-- athanor:lint-ignore CLASS[, CLASS...]`: a migration's author accepts a class of
//! `lint` finding on purpose. The comment counts for the whole file (every finding of
//! its class in that revision), wherever it stands in the upgrade or downgrade section;
//! classes are separated by commas or blanks. A class lint does not know is a
//! `PARSE_ERROR` naming the line: a typo must not silence nothing while looking as if
//! it silenced something.

use super::classify::Class;
use crate::core::error::{Error, Result};
use crate::core::script::Script;

/// The comment's marker, after `--`.
pub const DIRECTIVE: &str = "athanor:lint-ignore";

/// The classes `script` accepts, each once, in the order first named.
pub fn accepted(script: &Script) -> Result<Vec<Class>> {
    let mut out = Vec::new();
    for section in std::iter::once(&script.upgrade).chain(&script.downgrade) {
        for (i, line) in section.sql.lines().enumerate() {
            let Some(rest) = directive(line) else { continue };
            let line_no = section.first_line + i;
            let names: Vec<&str> = rest.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()).collect();
            if names.is_empty() {
                return Err(Error::parse(&script.path, line_no, format!("'-- {DIRECTIVE}' names no class (classes: {})", known())));
            }
            for n in names {
                let class =
                    Class::parse(n).ok_or_else(|| Error::parse(&script.path, line_no, format!("unknown lint class '{n}' (classes: {})", known())))?;
                if !out.contains(&class) {
                    out.push(class);
                }
            }
        }
    }
    Ok(out)
}

/// What follows the marker on a `-- athanor:lint-ignore ...` line.
pub fn directive(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start().strip_prefix(DIRECTIVE)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

fn known() -> String {
    Class::ALL.map(Class::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::source::from_text;

    fn script(up: &str) -> Script {
        from_text(
            "m/r1_x.sql",
            &format!("-- Revision ID: r1\n-- Revises:\n\n-- migrate:upgrade\n{up}\n-- migrate:downgrade\n-- athanor:lint-ignore non-transactional\n"),
        )
        .unwrap()
    }

    #[test]
    fn reads_classes_from_both_sections() {
        let s = script("DROP TABLE a;\n  --athanor:lint-ignore destructive,backward-incompatible  DESTRUCTIVE\n");
        assert_eq!(accepted(&s).unwrap(), [Class::Destructive, Class::BackwardIncompatible, Class::NonTransactional]);
        assert_eq!(accepted(&script("-- athanor:lint-ignored destructive\n")).unwrap(), [Class::NonTransactional]);
    }

    #[test]
    fn unknown_or_missing_classes_name_the_line() {
        let e = accepted(&script("SELECT 1;\n-- athanor:lint-ignore destructiv\n")).unwrap_err();
        assert_eq!(e.code(), "PARSE_ERROR");
        assert!(e.to_string().starts_with("m/r1_x.sql:6: unknown lint class 'destructiv' (classes: destructive, "), "{e}");
        let e = accepted(&script("-- athanor:lint-ignore\n")).unwrap_err();
        assert!(e.to_string().starts_with("m/r1_x.sql:5: '-- athanor:lint-ignore' names no class"), "{e}");
    }
}
