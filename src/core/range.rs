//! History ranges as `history -r` and `lint` take them: `START:END`, either side
//! optional (`a:`, `:b`) or `current` (the database's revisions).

use super::error::{Error, Result};
use super::walk::Spec;

/// The two sides of `range`, trimmed; `None` when it has no single `:`.
pub fn split_range(range: &str) -> Option<(&str, &str)> {
    let (start, end) = range.trim().split_once(':')?;
    (!end.contains(':')).then_some((start.trim(), end.trim()))
}

/// The sides of `range`, or Alembic's `USAGE` error when it is not one.
pub fn parse_range(range: &str) -> Result<(&str, &str)> {
    split_range(range).ok_or_else(|| Error::Usage("History range requires [start]:[end], [start]:, or :[end]".into()))
}

/// One side of a range as the walk takes it: empty is `default` (`base` for the
/// start, `heads` for the end), `current` is the version table's `rows` (or `default`
/// when there are none).
pub fn side_spec(side: &str, default: &str, rows: &[String]) -> Spec {
    match side {
        "current" if !rows.is_empty() => Spec::Rows(rows.to_vec()),
        "current" | "" => Spec::Expr(default.into()),
        s => Spec::Expr(s.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_at_one_colon() {
        assert_eq!(split_range(" a:b "), Some(("a", "b")));
        assert_eq!(split_range("a:"), Some(("a", "")));
        assert_eq!(split_range(":b"), Some(("", "b")));
        assert_eq!(split_range("ab"), None);
        assert_eq!(split_range("a:b:c"), None);
        assert_eq!(parse_range("x").unwrap_err().code(), "USAGE");
    }

    #[test]
    fn sides_default_and_current() {
        let rows = vec!["r1".to_string()];
        assert_eq!(side_spec("", "base", &rows), Spec::Expr("base".into()));
        assert_eq!(side_spec("current", "heads", &rows), Spec::Rows(rows.clone()));
        assert_eq!(side_spec("current", "heads", &[]), Spec::Expr("heads".into()));
        assert_eq!(side_spec("ab12", "heads", &[]), Spec::Expr("ab12".into()));
    }
}
