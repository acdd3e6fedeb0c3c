//! Command-line arguments: global options anywhere, then Alembic's command and flags.

use crate::core::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Global {
    pub dir: Option<String>,
    pub db: Option<String>,
    pub version_table: Option<String>,
    pub per_migration: bool,
    /// The declared schema `revision --autogenerate` and `check` compare with.
    pub schema: Option<String>,
    /// `--busy-timeout MS`: how long to wait for another connection's lock before
    /// `LOCKED` (default 5 s).
    pub busy_timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub global: Global,
    pub command: String,
    pub positional: Vec<String>,
    pub sql: bool,
    pub verbose: bool,
    pub purge: bool,
    pub indicate_current: bool,
    pub resolve_dependencies: bool,
    pub rev_range: Option<String>,
    pub help: bool,
    pub message: Option<String>,
    pub autogenerate: bool,
    pub head: Option<String>,
    pub splice: bool,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub rev_id: Option<String>,
    pub output: Option<String>,
    /// `revision --autogenerate --rename OLD=NEW` / `TABLE.OLD=NEW`, in order.
    pub renames: Vec<String>,
    /// `adopt --write-schema`: also write the declared schema file.
    pub write_schema: bool,
    /// `test --seed`: rows in every table before each step.
    pub seed: bool,
    /// `lint --format text|json`.
    pub format: Option<String>,
    /// The command's own options given, by their long name, to check against the
    /// command (each accepts only its own).
    pub options_given: Vec<&'static str>,
}

const COMMANDS: &[&str] = &[
    "init",
    "revision",
    "merge",
    "upgrade",
    "downgrade",
    "current",
    "history",
    "heads",
    "branches",
    "show",
    "stamp",
    "check",
    "bundle",
    "adopt",
    "test",
    "lint",
];

pub fn parse(argv: &[String]) -> Result<Args> {
    let mut a = Args::default();
    let mut it = argv.iter();
    let value = |it: &mut std::slice::Iter<String>, flag: &str| -> Result<String> {
        it.next().cloned().ok_or_else(|| Error::Usage(format!("{flag} needs a value")))
    };
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let take = |it: &mut std::slice::Iter<String>| -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => value(it, flag),
            }
        };
        if let Some(&(long, _, _)) = OPTIONS.iter().find(|(l, short, _)| flag == *l || Some(flag) == *short) {
            a.options_given.push(long);
            match long {
                "--sql" => a.sql = true,
                "--verbose" => a.verbose = true,
                "--purge" => a.purge = true,
                "--indicate-current" => a.indicate_current = true,
                "--resolve-dependencies" => a.resolve_dependencies = true,
                "--rev-range" => a.rev_range = Some(take(&mut it)?),
                "--message" => a.message = Some(take(&mut it)?),
                "--autogenerate" => a.autogenerate = true,
                "--head" => a.head = Some(take(&mut it)?),
                "--splice" => a.splice = true,
                "--branch-label" => a.branch_labels.push(take(&mut it)?),
                "--depends-on" => a.depends_on.push(take(&mut it)?),
                "--rev-id" => a.rev_id = Some(take(&mut it)?),
                "--rename" => a.renames.push(take(&mut it)?),
                "--write-schema" => a.write_schema = true,
                "--seed" => a.seed = true,
                "--format" => a.format = Some(take(&mut it)?),
                _ => a.output = Some(take(&mut it)?),
            }
            continue;
        }
        match flag {
            "--dir" | "-d" => a.global.dir = Some(take(&mut it)?),
            "--db" => {
                // SQLite would open "" as a temporary database: a run that migrates nothing lasting.
                let db = take(&mut it)?;
                if db.is_empty() {
                    return Err(Error::Usage("--db is empty: pass the database file's path".into()));
                }
                a.global.db = Some(db);
            }
            "--version-table" => a.global.version_table = Some(take(&mut it)?),
            "--transaction-per-migration" => a.global.per_migration = true,
            "--schema" => a.global.schema = Some(take(&mut it)?),
            "--busy-timeout" => {
                let v = take(&mut it)?;
                let ms = v.parse().map_err(|_| Error::Usage(format!("--busy-timeout takes milliseconds (0 to {}), not '{v}'", u32::MAX)))?;
                a.global.busy_timeout_ms = Some(ms);
            }
            "--help" | "-h" => a.help = true,
            // A relative target such as `-1` is a positional, not a flag.
            f if f.starts_with('-') && !f[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                return Err(Error::Usage(format!("unknown option '{f}'")))
            }
            _ if a.command.is_empty() => {
                if !COMMANDS.contains(&arg.as_str()) {
                    return Err(Error::Usage(format!("unknown command '{arg}' (commands: {})", COMMANDS.join(", "))));
                }
                a.command = arg.clone();
            }
            _ => a.positional.push(arg.clone()),
        }
    }
    if a.command.is_empty() && !a.help {
        return Err(Error::Usage(format!("no command given (commands: {})", COMMANDS.join(", "))));
    }
    if let Some(wrong) = a.options_given.iter().find(|o| !takes(&a.command, o)) {
        let own: Vec<&str> = OPTIONS.iter().filter(|(l, _, _)| takes(&a.command, l)).map(|(l, _, _)| *l).collect();
        let own = if own.is_empty() { "none but the global ones".to_string() } else { own.join(", ") };
        return Err(Error::Usage(format!("{} does not take {wrong} (its options: {own})", a.command)));
    }
    Ok(a)
}

/// Each command's own options (long name, short name, the commands that take it); the
/// global options (`--dir`, `--db`, ...) go with any command.
const OPTIONS: &[(&str, Option<&str>, &[&str])] = &[
    ("--sql", None, &["upgrade", "downgrade", "stamp"]),
    ("--verbose", Some("-v"), &["current", "history", "heads", "branches"]),
    ("--purge", None, &["stamp"]),
    ("--indicate-current", Some("-i"), &["history"]),
    ("--resolve-dependencies", None, &["heads"]),
    ("--rev-range", Some("-r"), &["history"]),
    ("--message", Some("-m"), &["revision", "merge", "adopt"]),
    ("--autogenerate", None, &["revision"]),
    ("--head", None, &["revision"]),
    ("--splice", None, &["revision"]),
    ("--branch-label", None, &["revision", "merge"]),
    ("--depends-on", None, &["revision"]),
    ("--rev-id", None, &["revision", "merge", "adopt"]),
    ("--rename", None, &["revision"]),
    ("--output", Some("-o"), &["bundle"]),
    ("--write-schema", None, &["adopt"]),
    ("--seed", None, &["test"]),
    ("--format", None, &["lint"]),
];

/// Whether `command` takes the option `long`; with no command (`--help` alone), any.
fn takes(command: &str, long: &str) -> bool {
    command.is_empty() || OPTIONS.iter().any(|(l, _, commands)| *l == long && commands.contains(&command))
}

/// `athanor COMMAND --help`.
pub fn command_usage(command: &str) -> Option<&'static str> {
    Some(match command {
        "init" => "usage: athanor init [DIR]\n\nCreates the migrations directory (default: migrations) and athanor.ini.\n",
        "revision" => "usage: athanor revision -m MESSAGE [--autogenerate [--rename OLD=NEW]...] [--head REV] [--splice] [--branch-label LABEL] [--depends-on REV] [--rev-id ID]\n\nWrites DIR/<id>_<slug>.sql revising the current head (or --head; --head base starts a new base).\n  -m, --message MESSAGE  the revision's message (and file-name slug)\n  --autogenerate         write the SQL from the heads' schema (or --db's) to the declared one (--schema PATH, default schema.sql)\n  --rename OLD=NEW       with --autogenerate: table OLD was renamed NEW (ALTER TABLE ... RENAME TO, not a drop and an add);\n  --rename T.OLD=NEW     column OLD of table T was renamed NEW (RENAME COLUMN); repeatable\n  --head REV             the revision to base it on (a head, unless --splice)\n  --splice               allow a --head that is not a head (starts a branch)\n  --branch-label LABEL   a branch label for the new revision (repeatable)\n  --depends-on REV       a dependency (repeatable)\n  --rev-id ID            use ID instead of 12 random hex digits\n",
        "merge" => "usage: athanor merge -m MESSAGE REVS... [--branch-label LABEL] [--rev-id ID]\n\nWrites a revision whose parents are REVS (e.g. heads).\n",
        "upgrade" => "usage: athanor upgrade [TARGET] [--sql]\n\nApplies migrations up to TARGET (default: heads): head, heads, REV, LABEL@head, +N, REV+N...\n  --sql  print the SQL instead (offline; FROM:TO sets the starting revision)\n",
        "downgrade" => "usage: athanor downgrade TARGET [--sql]\n\nReverts migrations down to TARGET: base, REV, -N, LABEL@-N...\n  --sql  print the SQL instead (needs FROM:TO)\n",
        "current" => "usage: athanor current [--verbose]\n\nThe database's current revision(s).\n",
        "history" => "usage: athanor history [-r RANGE] [--verbose] [--indicate-current]\n\nRevisions, newest first. RANGE: a:b, a:, :b, -3:, current.\n",
        "heads" => "usage: athanor heads [--verbose] [--resolve-dependencies]\n\nThe migrations' head revisions.\n",
        "branches" => "usage: athanor branches [--verbose]\n\nThe branch points.\n",
        "show" => "usage: athanor show REV\n\nOne revision in full (REV may be current).\n",
        "stamp" => "usage: athanor stamp TARGET... [--purge] [--sql]\n\nSets the version table to TARGET(s) without running migrations.\n  --purge  delete every row (and recorded checksums) first\n",
        "bundle" => "usage: athanor bundle [-o FILE]\n\nWrites the migrations as an ES module (default export: file name -> text; `checksums`: revision -> SHA-256)\nfor a Worker or a browser app: `openMigrator({ migrations })` takes the default export as it is.\n",
        "check" => "usage: athanor check [--schema PATH]\n\nCompares the declared schema (default: schema.sql) with the schema at the heads (or the --db database,\nwhich must be at the heads). Exit status: 0 no differences, 1 differences (listed), 2 usage error,\n3 the comparison could not run (no schema file, a migration that does not parse, ...).\n",
        "adopt" => "usage: athanor --db PATH adopt [-m MESSAGE] [--rev-id ID] [--write-schema]\n\nFor a database made without migrations: writes a base revision (DIR must hold none) that creates its tables,\nindexes, views and triggers with the database's own CREATE statements (the downgrade drops them), and stamps\nthe database at it.\n  -m, --message MESSAGE  the revision's message (default: adopt existing schema)\n  --rev-id ID            use ID instead of 12 random hex digits\n  --write-schema         also write the declared schema (--schema PATH, default schema.sql; never overwritten)\n",
        "test" => "usage: athanor test [--seed]\n\nTests every revision on a scratch in-memory database (never --db): in upgrade order, upgrade it, downgrade it, compare\nthe schema with the one before (autogenerate's model), upgrade it again; then downgrade to base (the schema must be empty)\nand upgrade to heads. Stops at the first failure (ROUND_TRIP_FAILED: the step, then the failing statement with its file and\nline, or the schema difference). A revision without a downgrade section is reported and skipped (and then the downgrade\nto base too). Exit status: 0 passed, 1 failed, 2 usage error.\n  --seed  insert rows into every table before each step (typed, numbered, fitting NOT NULL and CHECK where it can),\n          so that migrations that fail only on data fail here too\n",
        "lint" => "usage: athanor lint [RANGE] [--format text|json]\n\nApplies each migration of RANGE to a scratch in-memory database built up to its parents (never --db) and reports\nwhat its upgrade does, by class, with file and line:\n  destructive            a table dropped (or emptied: dropped and created again), a column dropped, a table rebuilt\n                         without a column\n  data-dependent         NOT NULL, UNIQUE, CHECK, PRIMARY KEY or a foreign key added to a table that existed (may hold rows)\n  backward-incompatible  a table or column renamed or dropped (clients on the old schema break)\n  non-transactional      an upgrade marked transaction:false\nRANGE: as history -r (a:b, a:, :b, current) or one revision (REV, heads); default: the revisions --db has not applied,\nor without --db (or a --db that does not exist) the heads. A comment '-- athanor:lint-ignore CLASS[, CLASS]' anywhere in\na migration's sections accepts those classes for that whole file. Exit status: 0 no findings, 1 findings\n(LINT_FINDINGS) or an error, 2 usage error.\n  --format text|json  json: {\"revisions\": [...], \"findings\": [{\"class\", \"revision\", \"file\", \"line\", \"message\"}...],\n                      \"ignored\": [same]} on stdout\n",
        _ => return None,
    })
}

pub fn usage() -> String {
    "usage: athanor [--dir DIR] [--db PATH] [--version-table NAME] [--transaction-per-migration] [--schema PATH] [--busy-timeout MS] COMMAND [ARGS]

commands (Alembic's):
  init [DIR]                        create the migrations directory and athanor.ini
  revision -m MSG [--autogenerate [--rename OLD=NEW | T.OLD=NEW]...] [--head REV] [--splice] [--branch-label L] [--depends-on REV] [--rev-id ID]
  merge -m MSG REVS...              a revision that merges REVS (e.g. heads)
  upgrade [TARGET] [--sql]          apply migrations up to TARGET (default: heads)
  downgrade TARGET [--sql]          revert migrations down to TARGET
  current [--verbose]               show the database's current revision(s)
  history [-r RANGE] [--verbose] [--indicate-current]
  heads [--verbose] [--resolve-dependencies]
  branches [--verbose]
  show REV
  stamp TARGET... [--sql] [--purge] set the version table without running migrations
  check [--schema PATH]             fail if the declared schema needs new migrations
  adopt [-m MSG] [--rev-id ID] [--write-schema]
                                    a base revision for --db's existing schema, and --db stamped at it
  test [--seed]                     round-trip every revision (up, down, up) on a scratch database
  lint [RANGE] [--format text|json] destructive, data-dependent, backward-incompatible, non-transactional changes

settings may also come from athanor.ini in the current directory:
  [athanor]
  dir = migrations
  db = app.db
  version_table = alembic_version
  schema = schema.sql
"
    .to_string()
}
