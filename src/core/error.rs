//! The one error type of athanor. `Display` is for people; `code()` is the stable
//! contract that JS and the CLI branch on.

use std::fmt;

/// Where a failing statement sits: which revision, which statement, which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFailure {
    pub revision: String,
    pub file: String,
    pub line: usize,
    pub statement: String,
    pub sqlite_message: String,
    /// SQLite's extended result code (`SQLITE_CONSTRAINT_UNIQUE` is 2067), when the
    /// failure came from SQLite.
    pub sqlite_code: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{file}:{line}: {message}")]
    Parse { file: String, line: usize, message: String },
    #[error("Revision {revision} is present more than once ({first}, {second})")]
    DuplicateRevision { revision: String, first: String, second: String },
    #[error("Revision {missing} referenced from {from} is not present")]
    UnknownParent { missing: String, from: String },
    #[error("Branch name '{label}' in revision {revision} already used by revision {other}")]
    DuplicateLabel { label: String, revision: String, other: String },
    /// A merge that revises a revision and one of its descendants.
    #[error("Revision {revision} ({file}) revises both {ancestor} and {descendant}, but {ancestor} is already an ancestor of {descendant}: a merge's parents must be independent (revise {descendant} alone)")]
    RedundantParent { revision: String, file: String, ancestor: String, descendant: String },
    #[error("{kind} is detected in revisions ({})", revisions.join(", "))]
    Cycle { kind: &'static str, revisions: Vec<String> },
    #[error("{message}")]
    UnknownRevision { argument: String, message: String },
    #[error("{message}")]
    AmbiguousRevision { argument: String, message: String },
    #[error("{message}")]
    MultipleHeads { argument: String, heads: Vec<String>, message: String },
    /// A target that cannot be reached from where the database is.
    #[error("{0}")]
    InvalidTarget(String),
    #[error("Revision {revision} ({file}) has no downgrade section; it cannot be downgraded")]
    Irreversible { revision: String, file: String },
    #[error("Can't locate revision identified by '{revision}' (the database is at a revision these migrations do not contain: it is ahead of this code, or belongs to other migrations)")]
    DatabaseAhead { revision: String },
    #[error("Revision {revision} ({file}) was modified after it was applied: recorded checksum {recorded}, file now {current}; restore the file, or accept the change with `stamp --purge` to the current revision(s)")]
    ChecksumMismatch { revision: String, file: String, recorded: String, current: String },
    #[error("Migration {} failed at {}:{}: {} (statement: {})", .0.revision, .0.file, .0.line, .0.sqlite_message, one_line(&.0.statement))]
    MigrationFailed(Box<StatementFailure>),
    #[error("database is locked: another connection holds its write lock (is another migration running?)")]
    Locked(String),
    #[error("{0}")]
    VersionTable(String),
    /// SQLite refused something outside a migration's statements; `code`: its extended
    /// result code.
    #[error("{message}")]
    Sqlite { message: String, code: Option<i32> },
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Usage(String),
    /// Browser persistence asked for where the origin-private file system cannot be used.
    #[error("OPFS is not available here ({0}); it needs a dedicated worker in a secure context (https or localhost) of a browser with sync access handles. Pass storage: \"memory\" to run without persistence")]
    OpfsUnavailable(String),
    /// A database file in a Node without `node:sqlite` (Node 20, or 22 before 22.13
    /// without its flag): athanor opens files through it so that SQLite's own locks
    /// are shared with every other process, and never falls back to a path that
    /// ignores them.
    #[error("node:sqlite is not available in this Node ({0}): athanor opens database files through it, so that other programs' locks on the file are honoured. Run Node 22.13 or later (24 recommended), or, from the JS API, hand athanor the app's connection: openMigrator({{ adapter: betterSqlite3(db), migrations }})")]
    NodeSqliteUnavailable(String),
    /// `check`: the declared schema and the migrations' differ.
    #[error("New upgrade operations detected: {}", changes.join("; "))]
    SchemaDiff { changes: Vec<String> },
    /// Autogenerate against a database that is not at the heads (Alembic's words).
    #[error("Target database is not up to date.")]
    NotUpToDate { current: Vec<String>, heads: Vec<String> },
    /// `test`: a round trip failed. `step` says which (e.g. "downgrade of 1a2b3c4d5e6f
    /// (migrations/1a2b3c4d5e6f_x.sql)", "downgrade to base"), `revision` the revision
    /// whose step it was, when one was; `reason` the failing statement or the schema
    /// difference.
    #[error("Round trip failed at the {step}: {reason}")]
    RoundTripFailed { step: String, revision: Option<String>, reason: String },
    /// `lint`: findings that no `-- athanor:lint-ignore` comment accepts.
    #[error("{count} lint finding(s) in {revisions} revision(s) (accept one on purpose with '-- athanor:lint-ignore CLASS' in its migration)")]
    LintFindings { count: usize, revisions: usize },
}

/// A statement on one line, shortened: error messages stay one line.
pub fn one_line(sql: &str) -> String {
    let flat = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 160 {
        format!("{}...", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}

impl Error {
    /// Alembic's wording for a symbol that names several heads.
    pub fn multiple_heads(argument: &str, heads: Vec<String>) -> Error {
        let message = format!(
            "Multiple head revisions are present for given argument '{argument}'; please specify a specific target revision, '<branchname>@{argument}' to narrow to a specific head, or 'heads' for all heads"
        );
        Error::MultipleHeads { argument: argument.to_string(), heads, message }
    }

    /// Stable machine-readable code; never changes for a kind once released.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse { .. } | Error::RedundantParent { .. } => "PARSE_ERROR",
            Error::DuplicateRevision { .. } => "DUPLICATE_REVISION",
            Error::UnknownParent { .. } => "UNKNOWN_PARENT",
            Error::DuplicateLabel { .. } => "DUPLICATE_LABEL",
            Error::Cycle { .. } => "CYCLE",
            Error::UnknownRevision { .. } => "UNKNOWN_REVISION",
            Error::AmbiguousRevision { .. } => "AMBIGUOUS_REVISION",
            Error::MultipleHeads { .. } => "MULTIPLE_HEADS",
            Error::InvalidTarget(_) => "INVALID_TARGET",
            Error::Irreversible { .. } => "IRREVERSIBLE",
            Error::DatabaseAhead { .. } => "DATABASE_AHEAD",
            Error::ChecksumMismatch { .. } => "CHECKSUM_MISMATCH",
            Error::MigrationFailed(_) => "MIGRATION_FAILED",
            Error::Locked(_) => "LOCKED",
            Error::VersionTable(_) => "VERSION_TABLE",
            Error::Sqlite { .. } => "SQLITE_ERROR",
            Error::Io(_) => "IO_ERROR",
            Error::Usage(_) => "USAGE",
            Error::OpfsUnavailable(_) => "OPFS_UNAVAILABLE",
            Error::NodeSqliteUnavailable(_) => "NODE_SQLITE_UNAVAILABLE",
            Error::SchemaDiff { .. } => "SCHEMA_DIFF",
            Error::NotUpToDate { .. } => "NOT_UP_TO_DATE",
            Error::RoundTripFailed { .. } => "ROUND_TRIP_FAILED",
            Error::LintFindings { .. } => "LINT_FINDINGS",
        }
    }

    pub(crate) fn parse(file: &str, line: usize, message: impl fmt::Display) -> Error {
        Error::Parse { file: file.to_string(), line, message: message.to_string() }
    }
}

/// Every code, listed once (the JS types and the docs are generated from this).
pub const ERROR_CODES: &[&str] = &[
    "PARSE_ERROR",
    "DUPLICATE_REVISION",
    "UNKNOWN_PARENT",
    "DUPLICATE_LABEL",
    "CYCLE",
    "UNKNOWN_REVISION",
    "AMBIGUOUS_REVISION",
    "MULTIPLE_HEADS",
    "INVALID_TARGET",
    "IRREVERSIBLE",
    "DATABASE_AHEAD",
    "CHECKSUM_MISMATCH",
    "MIGRATION_FAILED",
    "LOCKED",
    "VERSION_TABLE",
    "SQLITE_ERROR",
    "IO_ERROR",
    "USAGE",
    "SCHEMA_DIFF",
    "NOT_UP_TO_DATE",
    "OPFS_UNAVAILABLE",
    "NODE_SQLITE_UNAVAILABLE",
    "ROUND_TRIP_FAILED",
    "LINT_FINDINGS",
    // Raised by the npm package's JS alone (no variant here): the worker a page starts
    // for an OPFS database, or its wasm, failed to load, or the worker crashed.
    "WORKER_FAILED",
];

pub type Result<T, E = Error> = std::result::Result<T, E>;
