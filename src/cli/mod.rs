//! The CLI's commands as a library: arguments in, stdout / stderr text and an exit
//! status out. File and database access go through [`Host`], so the same code serves
//! the native binary and the wasm package.

#[cfg(feature = "autogen")]
pub mod adopt;
pub mod args;
pub mod authoring;
pub mod bundle;
pub mod commands;
pub mod config;
pub mod format;
pub mod host;
#[cfg(feature = "autogen")]
pub mod safety;

#[cfg(feature = "autogen")]
pub use host::SchemaView;
pub use host::{Database, Host, MigrationFile};
#[cfg(feature = "sqlite")]
pub use host::{NativeDb, NativeHost};

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Whether a command line needs autogenerate (and so SQLite in the process):
/// `revision --autogenerate`, `check`, `adopt`, `test`, `lint`. A build without it hands
/// those on.
pub fn needs_autogen(argv: &[String]) -> bool {
    args::parse(argv)
        .is_ok_and(|a| !a.help && (matches!(a.command.as_str(), "check" | "adopt" | "test" | "lint") || (a.command == "revision" && a.autogenerate)))
}

/// Runs one command line (without the program name).
pub fn run(argv: &[String], host: &dyn Host) -> Output {
    let mut out = Output::default();
    let mut command = String::new();
    let result = args::parse(argv).and_then(|a| {
        command.clone_from(&a.command);
        if a.help {
            out.stdout.push_str(&args::command_usage(&a.command).map(String::from).unwrap_or_else(args::usage));
            return Ok(());
        }
        commands::dispatch(&a, host, &mut out)
    });
    if let Err(e) = result {
        out.stderr.push_str(&format!("FAILED [{}]: {}\n", e.code(), e));
        out.status = exit_status(&command, e.code());
    }
    out
}

/// 0 success, 1 failure, 2 usage error. `check` keeps 1 for "the schema differs" alone,
/// so CI can tell a needed migration from a check that could not run (3: no schema.sql,
/// a migration that does not parse, a database that cannot be read...).
pub fn exit_status(command: &str, code: &str) -> i32 {
    match code {
        "USAGE" => 2,
        "SCHEMA_DIFF" => 1,
        _ if command == "check" => 3,
        _ => 1,
    }
}
